import type {
  CommandIds,
  SessionAgentConnectivityChanged,
  SessionCancelRequested,
  SessionStartRequested,
} from '@converge/contracts';
import type { OutboxEvent } from '@converge/store';
import type { LogLine } from '../data-access/log-line.repository.ts';
import {
  finalSessionStatuses,
  type MaintenanceSession,
  type SessionEvent,
  type SessionTransition,
} from '../domain/maintenance-session.ts';
import { commandMessage } from '../domain/plan-scripts.ts';
import { InvalidPlanError, type SessionPlan } from '../domain/session-plan.ts';
import { applySessionEvent, createSession } from '../domain/session-transitions.ts';
import { finalWordsSeq } from '../domain/session-work.ts';
import { transitionOutbox } from './session-messages.ts';

/** What the owner keeps beside the state machine's session: the stored document's own fields. */
export interface SessionRecord {
  /** Writes of the document so far (0: not written yet): the condition of the next write. */
  version: number;
  partition: number;
  scheduleId: string | null;
  maintenanceItemId: string | null;
  planId: string | null;
  planAttempts: number;
  agentEpoch: number;
}

/** A session in its owner's memory. */
export interface OwnedSession {
  session: MaintenanceSession;
  record: SessionRecord;
  plan: SessionPlan | undefined;
}

/** Something that changes a session, as its owner applies it. */
export type SessionInput =
  /** An agent's result or output: applied only if the agent and tenant are the session's own. */
  | { type: 'agent-report'; sessionId: string; agentId: string; tenantId: string; event: SessionEvent }
  | { type: 'tick'; sessionId: string }
  | { type: 'start'; request: SessionStartRequested }
  | { type: 'cancel'; request: SessionCancelRequested }
  | { type: 'connectivity'; change: SessionAgentConnectivityChanged }
  | { type: 'plan'; sessionId: string; planId: string; plan: SessionPlan }
  | { type: 'plan-refused'; sessionId: string; reason: string }
  /** Deployments did not answer: ask again later. */
  | { type: 'plan-postponed'; sessionId: string };

/** The outcome a request's sender gets once the batch that applied it is stored. */
export type RequestOutcome =
  | { outcome: 'started' | 'exists' | 'cancelled'; sessionId: string }
  | { outcome: 'not-found'; sessionId: string }
  | { outcome: 'finished'; sessionId: string; status: string };

export interface Reply {
  replyTo: string;
  requestId: string;
  result: RequestOutcome;
}

/**
 * One batch of an owner's work, applied in memory: each input moves the sessions it names through the pure
 * state machine. Nothing here does I/O; the owner stores `logLines` and `changed`, sends what each session
 * `produced` and answers `replies`, or throws the whole batch away and starts again.
 */
export class SessionBatch {
  /** The sessions this batch changed, as they are now. */
  readonly changed = new Map<string, OwnedSession>();
  /** What each changed session produced in this batch: commands for its agent and its events. */
  readonly produced = new Map<string, OutboxEvent[]>();
  readonly logLines: LogLine[] = [];
  readonly replies: Reply[] = [];
  /** Sessions this batch created. */
  readonly created = new Set<string>();
  /** Inputs naming sessions the owner does not hold (another tenant's agent, a finished session evicted...). */
  ignored = 0;
  private readonly known: (sessionId: string) => OwnedSession | undefined;
  private readonly now: number;
  private readonly partition: number;
  private readonly commandIds: CommandIds;

  constructor(opts: {
    known: (sessionId: string) => OwnedSession | undefined;
    now: number;
    partition: number;
    commandIds: CommandIds;
  }) {
    this.known = opts.known;
    this.now = opts.now;
    this.partition = opts.partition;
    this.commandIds = opts.commandIds;
  }

  /** The session as this batch sees it: changed here, or as the owner holds it. */
  current(sessionId: string): OwnedSession | undefined {
    return this.changed.get(sessionId) ?? this.known(sessionId);
  }

  /** Applies inputs in order; inputs that the applied ones cause (a step that cannot run) follow at once. */
  applyAll(inputs: readonly SessionInput[]): void {
    const queue = [...inputs];
    for (let index = 0; index < queue.length; index++) {
      const input = queue[index];
      if (input !== undefined) queue.push(...this.apply(input));
    }
  }

  private apply(input: SessionInput): SessionInput[] {
    switch (input.type) {
      case 'start':
        this.start(input.request);
        return [];
      case 'cancel':
        return this.cancel(input.request);
      case 'agent-report': {
        const owned = this.current(input.sessionId);
        if (
          owned === undefined ||
          owned.session.agentId !== input.agentId ||
          owned.session.tenantId !== input.tenantId
        ) {
          this.ignored++;
          return [];
        }
        return this.transition(owned, input.event);
      }
      case 'tick':
        return this.event(input.sessionId, { type: 'timeout-tick' });
      case 'connectivity':
        return this.connectivity(input.change);
      case 'plan':
        return this.receivePlan(input);
      case 'plan-refused':
        return this.event(input.sessionId, { type: 'plan-failed', reason: input.reason });
      case 'plan-postponed': {
        const owned = this.current(input.sessionId);
        if (owned === undefined) return [];
        this.keep(owned, {
          ...owned,
          record: { ...owned.record, planAttempts: owned.record.planAttempts + 1 },
        });
        return [];
      }
    }
  }

  private event(sessionId: string, event: SessionEvent): SessionInput[] {
    const owned = this.current(sessionId);
    if (owned === undefined) {
      this.ignored++;
      return [];
    }
    return this.transition(owned, event);
  }

  private start(request: SessionStartRequested): void {
    const existing = this.current(request.sessionId);
    if (existing !== undefined) {
      this.reply(request.reply, { outcome: 'exists', sessionId: request.sessionId });
      return;
    }
    const created = createSession(
      {
        id: request.sessionId,
        tenantId: request.tenantId,
        computerId: request.computerId,
        agentId: request.agentId,
        kind: request.kind,
        trigger: request.trigger,
        ...(request.startAt === null ? {} : { startAt: Date.parse(request.startAt) }),
        notAfter: request.notAfter === null ? null : Date.parse(request.notAfter),
      },
      this.now,
    );
    const owned: OwnedSession = {
      session: created.session,
      plan: undefined,
      record: {
        version: 0,
        partition: this.partition,
        scheduleId: request.scheduleId,
        maintenanceItemId: request.maintenanceItemId,
        planId: null,
        planAttempts: 0,
        agentEpoch: 0,
      },
    };
    this.created.add(request.sessionId);
    this.record(owned, created);
    this.reply(request.reply, { outcome: 'started', sessionId: request.sessionId });
  }

  private cancel(request: SessionCancelRequested): SessionInput[] {
    const owned = this.current(request.sessionId);
    if (owned === undefined) {
      this.reply(request.reply, { outcome: 'not-found', sessionId: request.sessionId });
      return [];
    }
    const { status } = owned.session;
    if (finalSessionStatuses.includes(status)) {
      this.reply(request.reply, { outcome: 'finished', sessionId: request.sessionId, status });
      return [];
    }
    const followUps = this.transition(owned, { type: 'cancel-requested', reason: request.reason });
    this.reply(request.reply, { outcome: 'cancelled', sessionId: request.sessionId });
    return followUps;
  }

  /**
   * A connect or disconnect of the session's agent, applied unless an event about a later connection (epoch)
   * was seen: a late disconnect of a connection the agent has replaced must not stop the session.
   */
  private connectivity(change: SessionAgentConnectivityChanged): SessionInput[] {
    const owned = this.current(change.sessionId);
    if (owned === undefined || owned.session.agentId !== change.agentId) {
      this.ignored++;
      return [];
    }
    const { agentEpoch } = owned.record;
    if (change.epoch < agentEpoch || (change.epoch === agentEpoch && change.online)) return [];
    const noted = { ...owned, record: { ...owned.record, agentEpoch: change.epoch } };
    this.keep(owned, noted);
    return this.transition(noted, { type: change.online ? 'agent-connected' : 'agent-offline' });
  }

  private receivePlan(input: Extract<SessionInput, { type: 'plan' }>): SessionInput[] {
    const owned = this.current(input.sessionId);
    if (owned === undefined || owned.session.status !== 'created') return [];
    const withPlan: OwnedSession = {
      ...owned,
      plan: input.plan,
      record: { ...owned.record, planId: input.planId },
    };
    try {
      return this.transition(withPlan, { type: 'plan-received', items: input.plan.items });
    } catch (error) {
      if (!(error instanceof InvalidPlanError)) throw error;
      return this.transition(owned, { type: 'plan-failed', reason: `no plan: ${error.message}` });
    }
  }

  /** Applies one event; a step that cannot run on an agent is answered as the agent would answer it. */
  private transition(owned: OwnedSession, event: SessionEvent): SessionInput[] {
    const transition = applySessionEvent(owned.session, event, this.now);
    if (transition.session === owned.session) return [];
    const next = { ...owned, session: transition.session };
    return this.record(next, transition);
  }

  private record(next: OwnedSession, transition: SessionTransition): SessionInput[] {
    const { session } = transition;
    this.changed.set(session.id, next);
    const at = new Date(this.now);
    const scripts = next.plan?.scripts ?? {};
    const messages = transition.commands.map((command) =>
      commandMessage(session, command, scripts, at, this.commandIds),
    );
    const events = this.produced.get(session.id) ?? [];
    events.push(...transitionOutbox(session, messages, transition.events, at));
    this.produced.set(session.id, events);
    for (const published of transition.events) {
      if (published.type !== 'log-line') continue;
      this.logLines.push({
        sessionId: session.id,
        actionId: published.actionId,
        commandId: published.commandId,
        index: published.index,
        line: published.line,
        loggedAt: at,
      });
    }
    const report = { sessionId: session.id, agentId: session.agentId, tenantId: session.tenantId };
    return messages.flatMap((message): SessionInput[] =>
      message.kind === 'cannot-run'
        ? [
            {
              type: 'agent-report',
              ...report,
              event: {
                type: 'output-chunk',
                commandId: message.commandId,
                seq: finalWordsSeq,
                data: message.message,
              },
            },
            {
              type: 'agent-report',
              ...report,
              event: {
                type: 'command-result',
                commandId: message.commandId,
                outcome: 'failed-to-start',
                exitCode: null,
                lastLine: null,
              },
            },
          ]
        : [],
    );
  }

  /** A change of the session's own fields, without a transition. */
  private keep(previous: OwnedSession, next: OwnedSession): void {
    this.changed.set(previous.session.id, next);
    if (!this.produced.has(previous.session.id)) this.produced.set(previous.session.id, []);
  }

  private reply(to: SessionStartRequested['reply'], result: RequestOutcome): void {
    if (to !== null) this.replies.push({ replyTo: to.replyTo, requestId: to.requestId, result });
  }
}
