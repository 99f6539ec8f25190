import type { components } from './api/gen/schema';
import { isFinal } from './format.ts';

export type Session = components['schemas']['Session'];
export type Action = components['schemas']['Action'];

/** The events of a session's live stream (`GET /sessions/{id}/live`), as the sessions service sends them. */
export type LiveEvent =
  | { event: 'session'; data: Session }
  | {
      event: 'status';
      data: { version: number; status: string; stage?: string; reason?: string; changedAt: string };
    }
  | {
      event: 'action';
      data: {
        version: number;
        actionId: string;
        actionType: string | null;
        status: string;
        result: string | null;
        reason: string | null;
        detected: string | null;
        desired: string | null;
      };
    }
  | { event: 'log'; data: { actionId: string; line: string; index?: number } };

/** The most log lines one action keeps in the browser; older ones are counted as dropped. */
export const keptLogLines = 5000;

/**
 * Applies one live event to the session a view shows, in place. The stream starts with a snapshot and may
 * repeat what the snapshot already has: a status or action change is applied only if newer than the session,
 * a numbered log line only if the action does not have it yet. Pure, so a view can apply a burst of events
 * at once (and the benchmark can apply a million).
 */
export function applyLiveEvent(session: Session | undefined, live: LiveEvent): Session | undefined {
  if (live.event === 'session') return live.data;
  if (session === undefined) return undefined;
  switch (live.event) {
    case 'status': {
      if (live.data.version <= session.version) return session;
      session.version = live.data.version;
      session.status = live.data.status;
      if (live.data.stage !== undefined) session.stage = live.data.stage;
      if (live.data.reason !== undefined) session.reason = live.data.reason;
      if (isFinal(live.data.status)) session.finishedAt ??= live.data.changedAt;
      return session;
    }
    case 'action': {
      const action = session.actions.find((candidate) => candidate.id === live.data.actionId);
      if (action === undefined || live.data.version < session.version) return session;
      action.type = live.data.actionType;
      action.status = live.data.status;
      action.result = live.data.result;
      action.reason = live.data.reason;
      action.detected = live.data.detected;
      action.desired = live.data.desired;
      return session;
    }
    case 'log': {
      const action = session.actions.find((candidate) => candidate.id === live.data.actionId);
      if (action === undefined) return session;
      const known = action.droppedLogLines + action.log.length;
      if (live.data.index !== undefined && live.data.index < known) return session;
      action.log.push(live.data.line);
      if (action.log.length > keptLogLines) {
        const excess = action.log.length - keptLogLines;
        action.log.splice(0, excess);
        action.droppedLogLines += excess;
      }
      return session;
    }
  }
}
