import { randomUUID } from 'node:crypto';
import { ConflictError } from '@converge/errors';
import type { Logger } from '@converge/telemetry';
import { PlanRefusedError, type Planner } from '../clients/deployments-planner.ts';
import type { StoredSession, SessionRepository } from '../data-access/session.repository.ts';
import type {
  MaintenanceSession,
  SessionEvent,
  SessionKind,
  SessionTransition,
  SessionTrigger,
} from '../domain/maintenance-session.ts';
import { commandMessage, type PlanScripts } from '../domain/plan-scripts.ts';
import { InvalidPlanError } from '../domain/session-plan.ts';
import { applySessionEvent, createSession, sessionWakeAt } from '../domain/session-transitions.ts';
import { transitionOutbox } from './session-messages.ts';

export interface OrchestratorDeps {
  sessions: SessionRepository;
  planner: Planner;
  logger: Logger;
  clock: () => number;
  /** How long a Resolve may take: a new session is looked at again after it, in case its plan never came. */
  resolveDeadlineMs: number;
}

export interface SessionStart {
  /** A deterministic id makes a redelivered trigger start nothing twice; a new one is made otherwise. */
  id?: string;
  tenantId: string;
  computerId: string;
  agentId: string;
  kind: SessionKind;
  trigger: SessionTrigger;
  maintenanceItemId?: string | null;
  scheduleId?: string | null;
  startAt?: number;
  notAfter?: number | null;
}

interface Decision {
  transition: SessionTransition;
  scripts?: PlanScripts;
  planAttempts?: number;
  /** Overrides when the ticker looks at the session next (a plan request to retry). */
  wakeAt?: number;
}

// A busy session (results, chunks and the ticker at once) loses version races; each loser reloads and decides again.
const maxConflictRetries = 25;
const maxPlanRetryDelayMs = 60_000;
// How long a computer deployments does not know yet may take to reach its projection before the session fails.
const planPatienceMs = 60_000;

/**
 * Runs maintenance sessions: every change goes through the pure state machine, then is stored with its
 * commands and events in one versioned single-document write (the outbox relay sends them). Whoever acts on
 * a session (a Kafka consumer, the ticker, a request) calls `apply`; a lost race is decided again on the
 * fresh state, so concurrent callers and replicas never send a command twice.
 */
export class SessionOrchestrator {
  private readonly deps: OrchestratorDeps;

  constructor(deps: OrchestratorDeps) {
    this.deps = deps;
  }

  /** Creates the session and asks for its plan; null when a session with that id exists already. */
  async start(request: SessionStart): Promise<MaintenanceSession | null> {
    const now = this.deps.clock();
    const created = createSession(
      {
        id: request.id ?? randomUUID(),
        tenantId: request.tenantId,
        computerId: request.computerId,
        agentId: request.agentId,
        kind: request.kind,
        trigger: request.trigger,
        ...(request.startAt === undefined ? {} : { startAt: request.startAt }),
        notAfter: request.notAfter ?? null,
      },
      now,
    );
    const inserted = await this.deps.sessions.insert({
      session: created.session,
      scheduleId: request.scheduleId ?? null,
      maintenanceItemId: request.maintenanceItemId ?? null,
      // The plan is asked for right away; the ticker asks again only if that answer never arrived.
      wakeAt: now + this.deps.resolveDeadlineMs + 5_000,
      events: transitionOutbox(created.session, [], created.events, new Date(now)),
    });
    if (!inserted) return null;
    void this.requestPlan(created.session.id).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, sessionId: created.session.id }, 'plan request failed');
    });
    return created.session;
  }

  /** Applies one event to a session; a session that does not exist (any more) is logged and left. */
  async apply(sessionId: string, event: SessionEvent): Promise<void> {
    await this.transition(sessionId, (stored) => ({
      transition: applySessionEvent(stored.session, event, this.deps.clock()),
    }));
  }

  /**
   * Asks deployments for the plan of a session still waiting for one. A refusal (no such computer, a cycle,
   * a plan the state machine rejects) fails the session with the reason; an unreachable deployments service
   * is asked again later, backing off.
   */
  async requestPlan(sessionId: string): Promise<void> {
    const stored = await this.deps.sessions.load(sessionId);
    if (stored === null || stored.session.status !== 'created') return;
    const { session, doc } = stored;
    try {
      const plan = await this.deps.planner.plan({
        tenantId: session.tenantId,
        computerId: session.computerId,
        kind: session.kind,
        ...(doc.maintenanceItemId === null ? {} : { maintenanceItemId: doc.maintenanceItemId }),
      });
      await this.transition(sessionId, (fresh) => {
        const received = { type: 'plan-received' as const, items: plan.items };
        return {
          transition: applySessionEvent(fresh.session, received, this.deps.clock()),
          scripts: plan.scripts,
        };
      });
    } catch (error) {
      const lagging = error instanceof PlanRefusedError && error.notKnownYet;
      const patient = this.deps.clock() - session.createdAt < planPatienceMs;
      if ((error instanceof PlanRefusedError && !(lagging && patient)) || error instanceof InvalidPlanError) {
        await this.apply(sessionId, { type: 'plan-failed', reason: `no plan: ${error.message}` });
        return;
      }
      this.deps.logger.warn(
        { err: error, sessionId },
        'deployments did not answer; the plan is asked for again',
      );
      await this.transition(sessionId, (fresh) => {
        const attempts = fresh.doc.planAttempts + 1;
        const delay = Math.min(maxPlanRetryDelayMs, 500 * 2 ** attempts);
        return {
          transition: { session: fresh.session, commands: [], events: [] },
          planAttempts: attempts,
          wakeAt: this.deps.clock() + delay,
        };
      });
    }
  }

  /** What the ticker does for a due session: ask for its plan, or let time act (starts, deadlines, windows). */
  async wake(sessionId: string): Promise<void> {
    const stored = await this.deps.sessions.load(sessionId);
    if (stored === null) return;
    if (stored.session.status === 'created') await this.requestPlan(sessionId);
    else await this.apply(sessionId, { type: 'timeout-tick' });
  }

  private async transition(sessionId: string, decide: (stored: StoredSession) => Decision): Promise<void> {
    for (let attempt = 0; attempt < maxConflictRetries; attempt++) {
      const stored = await this.deps.sessions.load(sessionId);
      if (stored === null) {
        this.deps.logger.warn({ sessionId }, 'event for an unknown maintenance session ignored');
        return;
      }
      const decision = decide(stored);
      const { session, commands, events } = decision.transition;
      const wakeAt = decision.wakeAt ?? sessionWakeAt(session);
      const storedWakeAt = stored.doc.wakeAt === null ? null : new Date(stored.doc.wakeAt).getTime();
      const unchanged =
        session === stored.session &&
        decision.scripts === undefined &&
        decision.planAttempts === undefined &&
        wakeAt === storedWakeAt;
      if (unchanged) return;
      const scripts = decision.scripts ?? stored.scripts;
      const now = new Date(this.deps.clock());
      const messages = commands.map((command) => commandMessage(session, command, scripts, now));
      try {
        await this.deps.sessions.save(stored, {
          session,
          wakeAt,
          events: transitionOutbox(session, messages, events, now),
          ...(decision.scripts === undefined ? {} : { scripts: decision.scripts }),
          ...(decision.planAttempts === undefined ? {} : { planAttempts: decision.planAttempts }),
        });
      } catch (error) {
        if (error instanceof ConflictError) continue;
        throw error;
      }
      // A step that cannot run on an agent is answered here, as the agent would answer a script it cannot start.
      for (const message of messages) {
        if (message.kind !== 'cannot-run') continue;
        await this.apply(sessionId, {
          type: 'output-chunk',
          commandId: message.commandId,
          seq: 0,
          data: message.message,
        });
        await this.apply(sessionId, {
          type: 'command-result',
          commandId: message.commandId,
          outcome: 'failed-to-start',
          exitCode: null,
          lastLine: null,
        });
      }
      return;
    }
    throw new ConflictError(
      `maintenance session ${sessionId} kept changing; gave up after ${maxConflictRetries} tries`,
    );
  }
}
