import {
  agentCommandCancelRequested,
  agentCommandRequested,
  sessionActionUpdated,
  sessionLogLine,
  sessionStatusChanged,
  type EventContract,
} from '@converge/contracts';
import type { OutboxEvent } from '@converge/store';
import type { MaintenanceSession, PublishedSessionEvent } from '../domain/maintenance-session.ts';
import type { CommandMessage } from '../domain/plan-scripts.ts';

function event<T>(contract: EventContract<T>, subject: string, tenantId: string, data: T): OutboxEvent {
  return { type: contract.type, topic: contract.topic, subject, tenantId, data };
}

/**
 * The outbox of one transition: commands for the agent (keyed by agent id, so the gateway sees one agent's
 * commands in order) and the session's events (keyed by session id), validated when the relay publishes them.
 */
export function transitionOutbox(
  session: MaintenanceSession,
  commands: readonly CommandMessage[],
  published: readonly PublishedSessionEvent[],
  now: Date,
): OutboxEvent[] {
  const { tenantId, computerId } = session;
  const at = now.toISOString();
  const events: OutboxEvent[] = [];
  for (const command of commands) {
    if (command.kind === 'run') {
      events.push(event(agentCommandRequested, command.data.agentId, tenantId, command.data));
    } else if (command.kind === 'cancel') {
      events.push(event(agentCommandCancelRequested, command.data.agentId, tenantId, command.data));
    }
  }
  const ref = { sessionId: session.id, computerId, tenantId };
  for (const change of published) {
    switch (change.type) {
      case 'session-updated':
        events.push(
          event(sessionStatusChanged, session.id, tenantId, {
            ...ref,
            version: change.version,
            status: change.status,
            previousStatus: change.previousStatus,
            ...(change.reason === null ? {} : { reason: change.reason.slice(0, 1024) }),
            kind: session.kind,
            stage: change.stage,
            changedAt: at,
          }),
        );
        break;
      case 'action-updated':
        events.push(
          event(sessionActionUpdated, session.id, tenantId, {
            ...ref,
            version: change.version,
            actionId: change.actionId,
            actionType: change.actionType,
            status: change.status,
            result: change.result,
            reason: change.reason === null ? null : change.reason.slice(0, 1024),
            detected: change.detected,
            desired: change.desired,
            changedAt: at,
          }),
        );
        break;
      case 'log-line':
        events.push(
          event(sessionLogLine, session.id, tenantId, {
            ...ref,
            version: change.version,
            actionId: change.actionId,
            commandId: change.commandId,
            line: change.line,
            // Numbered, so a live view that read the kept lines first can drop the ones it already has.
            index: change.index,
            loggedAt: at,
          }),
        );
        break;
    }
  }
  return events;
}
