import {
  contractEvent,
  PartitionNotOwnedError,
  type Bus,
  type ContractEvent,
  type OwnedSubscription,
} from '@converge/bus';
import { findContract, type CommandIds } from '@converge/contracts';
import type { OwnerReplies } from '@converge/runtime';
import { acquireFence, type OutboxEvent, type PartitionFence } from '@converge/store';
import { PartitionFencedError } from '@converge/errors';
import type { Logger } from '@converge/telemetry';
import type { Redis } from 'ioredis';
import { PlanRefusedError, type Planner } from '../clients/deployments-planner.ts';
import type { LogLine } from '../data-access/log-line.repository.ts';
import type { SessionRepository, StoredSession } from '../data-access/session.repository.ts';
import { encodeState } from '../data-access/session-state.ts';
import type { SessionDocument } from '../data-access/session.schema.ts';
import {
  finalSessionStatuses,
  type MaintenanceSession,
  type SessionTransition,
} from '../domain/maintenance-session.ts';
import { InvalidPlanError } from '../domain/session-plan.ts';
import { sessionWakeAt } from '../domain/session-transitions.ts';
import { resendAfterCrash } from '../domain/session-recovery.ts';
import { GroupCommit } from './group-commit.ts';
import { SessionBatch, type OwnedSession, type SessionInput } from './session-batch.ts';
import { transitionOutbox } from './session-messages.ts';
import { commandMessage } from '../domain/plan-scripts.ts';

export interface SessionOwnerDeps {
  sessions: SessionRepository;
  planner: Planner;
  bus: Bus;
  /** Holds the index of each agent's open sessions, which the agent-events router reads. */
  redis: Redis;
  replies: OwnerReplies;
  logger: Logger;
  clock: () => number;
  /** The owner group: the name of its partitions' fences. */
  groupId: string;
  /** Prefix of the Redis keys of the agents' open sessions. */
  agentIndexPrefix: string;
  /** How often time acts on the owned sessions. */
  tickIntervalMs: number;
  /** Issues the ids agents know commands by. */
  commandIds: CommandIds;
}

/** What one partition's batch stores and sends, in a group commit with those of other partitions. */
interface PartitionWrite {
  partition: number;
  fence: PartitionFence;
  writes: { doc: SessionDocument; previousVersion: number }[];
  sentSeq: number;
  created: string[];
  logLines: LogLine[];
  outgoing: ContractEvent[];
}

/** A partition this process owns, and the sessions of it that it holds. */
interface OwnedPartition {
  partition: number;
  fence: PartitionFence;
  sessions: Map<string, OwnedSession>;
  /** When each session next needs the clock: a tick for the state machine, or its plan to be asked for. */
  wakeAt: Map<string, number>;
  /** The last batch written, and the last one whose send completed. */
  seq: number;
  sentSeq: number;
  /** Finished sessions kept a while for late results, with when they finished. */
  finished: Map<string, number>;
  /** A batch failed after memory moved on: reload from the store before the next one. */
  stale: boolean;
  /** Inputs of this process (plan answers) waiting for the partition's queue. */
  internal: SessionInput[];
  internalScheduled: boolean;
}

// Finished sessions stay in memory this long, so a late result is logged without a read.
const keepFinishedMs = 10 * 60_000;
const planConcurrency = 32;
const maxPlanRetryDelayMs = 60_000;
// How long a computer deployments does not know yet may take to reach its projection before the session fails.
const planPatienceMs = 60_000;

function isFinal(session: MaintenanceSession): boolean {
  return finalSessionStatuses.includes(session.status);
}

function sessionIdOf(input: SessionInput): string {
  switch (input.type) {
    case 'start':
    case 'cancel':
      return input.request.sessionId;
    case 'connectivity':
      return input.change.sessionId;
    default:
      return input.sessionId;
  }
}

/** The document that stores an owned session as of batch `seq`. */
function sessionDocument(owned: OwnedSession, seq: number): SessionDocument {
  const { session, record } = owned;
  return {
    _id: session.id,
    version: record.version + 1,
    partition: record.partition,
    tenantId: session.tenantId,
    computerId: session.computerId,
    agentId: session.agentId,
    kind: session.kind,
    trigger: session.trigger,
    status: session.status,
    stage: session.stage,
    scheduleId: record.scheduleId,
    maintenanceItemId: record.maintenanceItemId,
    createdAt: new Date(session.createdAt),
    finishedAt: session.finishedAt === null ? null : new Date(session.finishedAt),
    planId: record.planId,
    planAttempts: record.planAttempts,
    agentEpoch: record.agentEpoch,
    state: encodeState(session),
    batchSeq: seq,
  };
}

function ownedFrom(stored: StoredSession, plan: OwnedSession['plan']): OwnedSession {
  const { doc } = stored;
  return {
    session: stored.session,
    plan,
    record: {
      version: doc.version,
      partition: doc.partition,
      scheduleId: doc.scheduleId,
      maintenanceItemId: doc.maintenanceItemId,
      planId: doc.planId,
      planAttempts: doc.planAttempts,
      agentEpoch: doc.agentEpoch,
    },
  };
}

/** An event of a transition as sent. */
function sendable(event: OutboxEvent): ContractEvent {
  const contract = findContract(event.type);
  if (contract === undefined) throw new Error(`no contract for ${event.type}`);
  return contractEvent(contract, {
    subject: event.subject,
    data: event.data,
    ...(event.tenantId === undefined ? {} : { tenantId: event.tenantId }),
  });
}

/**
 * The owner of the sessions of the partitions this replica is given (docs/architecture.md §9): it holds their
 * sessions in memory, applies each batch of commands and agent reports to them with the pure state machine,
 * stores what the batch changed in one fenced bulk write, sends what it produced in one Kafka request, and
 * answers the requests among the commands. Time (deadlines, starts, windows) and plan answers act through the
 * same path.
 */
export class SessionOwner {
  private readonly deps: SessionOwnerDeps;
  private readonly partitions = new Map<number, OwnedPartition>();
  private subscription: OwnedSubscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Sessions whose plan is asked for or queued to be. */
  private readonly planning = new Set<string>();
  private readonly planQueue: { partition: number; sessionId: string }[] = [];
  private plansInFlight = 0;
  private readonly commits = new GroupCommit<PartitionWrite, Error | undefined>((writes) =>
    this.flush(writes),
  );

  constructor(deps: SessionOwnerDeps) {
    this.deps = deps;
  }

  /** Starts the clock once the owner's subscription exists: timers act through its partitions' queues. */
  attach(subscription: OwnedSubscription): void {
    this.subscription = subscription;
    this.timer = setInterval(() => {
      this.tick();
    }, this.deps.tickIntervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The partitions owned and the sessions held: for metrics and tests. */
  held(): { partitions: number[]; sessions: number } {
    let sessions = 0;
    for (const part of this.partitions.values()) sessions += part.sessions.size;
    return { partitions: [...this.partitions.keys()], sessions };
  }

  readonly takeOver = async (partition: number): Promise<void> => {
    const held = this.partitions.get(partition);
    const fence = await acquireFence(
      this.deps.sessions.collection,
      this.deps.groupId,
      partition,
      held?.fence,
    );
    if (held !== undefined && fence.kept && !held.stale) return;
    this.partitions.set(partition, await this.load(partition, fence));
  };

  readonly release = (partition: number): void => {
    this.partitions.delete(partition);
  };

  readonly handleBatch = (partition: number, inputs: SessionInput[]): Promise<void> =>
    this.process(partition, inputs);

  /**
   * A partition's open sessions from the store. Those written by a batch whose send never completed (the
   * previous owner died in between) have their events sent again, under their ids, before anything else.
   */
  private async load(partition: number, fence: PartitionFence): Promise<OwnedPartition> {
    const { sessions } = this.deps;
    const stored = await sessions.openOf(partition);
    const part: OwnedPartition = {
      partition,
      fence,
      sessions: new Map(),
      wakeAt: new Map(),
      seq: fence.sentSeq,
      sentSeq: fence.sentSeq,
      finished: new Map(),
      stale: false,
      internal: [],
      internalScheduled: false,
    };
    const plans = await sessions.plans.load(
      stored.flatMap((entry) => (entry.doc.planId === null ? [] : [entry.doc.planId])),
    );
    const unsent = stored.filter((entry) => entry.doc.batchSeq > fence.sentSeq);
    if (unsent.length > 0) {
      await this.deps.bus.publishAll(
        unsent.flatMap(({ session, doc }) =>
          this.sendables(
            session,
            resendAfterCrash(session),
            doc.planId === null ? undefined : plans.get(doc.planId),
          ),
        ),
      );
      this.deps.logger.info(
        { partition, sessions: unsent.length },
        'what an unsent batch produced sent again',
      );
    }
    for (const entry of stored) part.seq = Math.max(part.seq, entry.doc.batchSeq);
    part.sentSeq = part.seq;
    const closed: string[] = [];
    const open: OwnedSession[] = [];
    for (const entry of stored) {
      if (isFinal(entry.session)) {
        closed.push(entry.doc._id);
        continue;
      }
      const owned = ownedFrom(entry, entry.doc.planId === null ? undefined : plans.get(entry.doc.planId));
      part.sessions.set(owned.session.id, owned);
      open.push(owned);
      this.schedule(part, owned);
    }
    await sessions.markClosed(closed);
    await this.indexAgents(open, []);
    this.deps.logger.info({ partition, token: fence.token, sessions: part.sessions.size }, 'sessions loaded');
    return part;
  }

  /** Applies inputs to the partition's sessions and stores, sends and answers what they produced. */
  private async process(partition: number, inputs: SessionInput[]): Promise<void> {
    let part = this.partitions.get(partition);
    if (part === undefined) throw new PartitionNotOwnedError(partition);
    if (part.stale) {
      part = await this.load(partition, { ...part.fence, sentSeq: part.sentSeq });
      this.partitions.set(partition, part);
    }
    const owned = part;
    const missing = [...new Set(inputs.map(sessionIdOf))].filter((id) => !owned.sessions.has(id));
    if (missing.length > 0) await this.hold(owned, missing);
    const batch = new SessionBatch({
      known: (id) => owned.sessions.get(id),
      now: this.deps.clock(),
      partition,
      commandIds: this.deps.commandIds,
    });
    batch.applyAll(inputs);
    // A tick that changed nothing (the clock had not quite reached what the session waits for) is not lost.
    for (const input of inputs) {
      const ticked =
        input.type === 'tick' && !batch.changed.has(input.sessionId)
          ? owned.sessions.get(input.sessionId)
          : undefined;
      if (ticked !== undefined) this.schedule(owned, ticked);
    }
    if (batch.changed.size === 0) {
      await this.deps.replies.answer(batch.replies);
      return;
    }
    try {
      await this.persist(owned, batch);
    } catch (error) {
      // Memory and store may differ now (the write went through, the send did not): start again from the store.
      owned.stale = true;
      throw error;
    }
  }

  /** Loads sessions the inputs name that are not held (finished ones, or a start whose id exists already). */
  private async hold(part: OwnedPartition, ids: string[]): Promise<void> {
    const stored = await this.deps.sessions.byIds(ids);
    const plans = await this.deps.sessions.plans.load(
      stored.flatMap((entry) => (entry.doc.planId === null ? [] : [entry.doc.planId])),
    );
    const now = this.deps.clock();
    for (const entry of stored) {
      // Keys decide partitions: a message naming another partition's session was sent under the wrong key.
      if (entry.doc.partition !== part.partition) {
        this.deps.logger.warn(
          { sessionId: entry.doc._id, partition: part.partition, owner: entry.doc.partition },
          'input for a session of another partition ignored',
        );
        continue;
      }
      const owned = ownedFrom(entry, entry.doc.planId === null ? undefined : plans.get(entry.doc.planId));
      part.sessions.set(owned.session.id, owned);
      if (isFinal(owned.session)) part.finished.set(owned.session.id, now);
      else this.schedule(part, owned);
    }
  }

  /**
   * Stores and sends the batches of the partitions that are waiting (a group commit): new sessions' markers, new
   * plans, log lines, then every partition's sessions in one fenced bulk write, then what the written batches
   * produced in one Kafka send. Resolves with what refused each partition's batch.
   */
  private async flush(writes: PartitionWrite[]): Promise<(Error | undefined)[]> {
    const { sessions, bus } = this.deps;
    await sessions.markOpen(
      writes.flatMap(({ partition, created }) => created.map((_id) => ({ _id, partition }))),
    );
    await sessions.plans.storeNew();
    // Log lines first: a line is stored under its number, so a batch written again after a crash adds none twice,
    // and one whose session write is lost is written again with the same content from the same output.
    await sessions.logLines.append(writes.flatMap(({ logLines }) => logLines));
    const refusals = await sessions.writeBatches(writes);
    await bus.publishAll(
      writes.flatMap(({ outgoing }, index) => (refusals[index] === undefined ? outgoing : [])),
    );
    return refusals;
  }

  private async persist(part: OwnedPartition, batch: SessionBatch): Promise<void> {
    const seq = part.seq + 1;
    const writes: { doc: SessionDocument; previousVersion: number }[] = [];
    const outgoing: ContractEvent[] = [];
    for (const [id, owned] of batch.changed) {
      for (const event of batch.produced.get(id) ?? []) outgoing.push(sendable(event));
      writes.push({ doc: sessionDocument(owned, seq), previousVersion: owned.record.version });
    }
    const refusal = await this.commits.commit({
      partition: part.partition,
      fence: part.fence,
      writes,
      sentSeq: part.sentSeq,
      created: [...batch.created],
      logLines: batch.logLines,
      outgoing,
    });
    if (refusal !== undefined) throw refusal;
    part.seq = seq;
    part.sentSeq = seq;

    const now = this.deps.clock();
    const opened: OwnedSession[] = [];
    const closed: OwnedSession[] = [];
    for (const [id, owned] of batch.changed) {
      const written = { ...owned, record: { ...owned.record, version: owned.record.version + 1 } };
      part.sessions.set(id, written);
      if (batch.created.has(id)) opened.push(written);
      const wasFinal = part.finished.has(id);
      if (isFinal(written.session)) {
        part.wakeAt.delete(id);
        if (!wasFinal) {
          part.finished.set(id, now);
          closed.push(written);
        }
      } else {
        this.schedule(part, written);
      }
    }
    await this.deps.sessions.markClosed(closed.map((owned) => owned.session.id));
    await this.indexAgents(opened, closed);
    await this.deps.replies.answer(batch.replies);
    for (const id of batch.created) this.requestPlan(part.partition, id);
  }

  /** A transition's commands and events as sent (a step that cannot run is simply not sent again). */
  private sendables(
    session: MaintenanceSession,
    transition: SessionTransition,
    plan: OwnedSession['plan'],
  ): ContractEvent[] {
    const at = new Date(this.deps.clock());
    const messages = transition.commands.map((command) =>
      commandMessage(session, command, plan?.scripts ?? {}, at, this.deps.commandIds),
    );
    return transitionOutbox(session, messages, transition.events, at).map(sendable);
  }

  /** Keeps the index of each agent's open sessions, which routes the agent's connects and disconnects. */
  private async indexAgents(opened: readonly OwnedSession[], closed: readonly OwnedSession[]): Promise<void> {
    if (opened.length === 0 && closed.length === 0) return;
    const pipeline = this.deps.redis.pipeline();
    for (const { session } of opened)
      pipeline.sadd(`${this.deps.agentIndexPrefix}${session.agentId}`, session.id);
    for (const { session } of closed)
      pipeline.srem(`${this.deps.agentIndexPrefix}${session.agentId}`, session.id);
    await pipeline.exec();
  }

  /** When the session next needs the clock: its plan while created, else what the state machine says. */
  private schedule(part: OwnedPartition, owned: OwnedSession): void {
    const { session, record } = owned;
    let wakeAt: number | null;
    if (session.status === 'created') {
      const backoff =
        record.planAttempts === 0 ? 0 : Math.min(maxPlanRetryDelayMs, 500 * 2 ** record.planAttempts);
      wakeAt = this.planning.has(session.id) ? null : this.deps.clock() + backoff;
    } else {
      wakeAt = sessionWakeAt(session);
    }
    if (wakeAt === null) part.wakeAt.delete(session.id);
    else part.wakeAt.set(session.id, wakeAt);
  }

  /** Lets time act on the owned sessions, and forgets finished ones after a while. */
  private tick(): void {
    const now = this.deps.clock();
    for (const part of this.partitions.values()) {
      const due: SessionInput[] = [];
      for (const [id, wakeAt] of part.wakeAt) {
        if (wakeAt > now) continue;
        part.wakeAt.delete(id);
        const owned = part.sessions.get(id);
        if (owned === undefined) continue;
        if (owned.session.status === 'created') this.requestPlan(part.partition, id);
        else due.push({ type: 'tick', sessionId: id });
      }
      for (const [id, finishedAt] of part.finished) {
        if (now - finishedAt < keepFinishedMs) continue;
        part.finished.delete(id);
        part.sessions.delete(id);
      }
      if (due.length > 0) this.runInternal(part.partition, due);
    }
  }

  private runInternal(partition: number, inputs: SessionInput[]): void {
    const subscription = this.subscription;
    if (subscription === undefined) return;
    subscription
      .run(partition, () => this.process(partition, inputs))
      .catch((error: unknown) => {
        // Fenced: the subscription has given the partition up.
        if (error instanceof PartitionNotOwnedError || error instanceof PartitionFencedError) return;
        this.deps.logger.warn({ err: error, partition }, 'timed or planned work on sessions failed; retried');
      });
  }

  /** Collects inputs of this process for one run through the partition's queue. */
  private enqueueInternal(partition: number, input: SessionInput): void {
    const part = this.partitions.get(partition);
    if (part === undefined) return;
    part.internal.push(input);
    if (part.internalScheduled) return;
    part.internalScheduled = true;
    setImmediate(() => {
      part.internalScheduled = false;
      this.runInternal(partition, part.internal.splice(0));
    });
  }

  private requestPlan(partition: number, sessionId: string): void {
    if (this.planning.has(sessionId)) return;
    this.planning.add(sessionId);
    this.planQueue.push({ partition, sessionId });
    this.pumpPlans();
  }

  private pumpPlans(): void {
    while (this.plansInFlight < planConcurrency) {
      const next = this.planQueue.shift();
      if (next === undefined) return;
      this.plansInFlight++;
      void this.askForPlan(next.partition, next.sessionId).finally(() => {
        this.plansInFlight--;
        this.planning.delete(next.sessionId);
        this.pumpPlans();
      });
    }
  }

  /**
   * Asks deployments for the plan of a session still waiting for one. A refusal (no such computer, a cycle, a
   * plan the state machine rejects) fails the session with the reason; an unreachable deployments service, or
   * a computer its projection does not have yet, is asked again later, backing off.
   */
  private async askForPlan(partition: number, sessionId: string): Promise<void> {
    const owned = this.partitions.get(partition)?.sessions.get(sessionId);
    if (owned === undefined || owned.session.status !== 'created') return;
    const { session, record } = owned;
    let input: SessionInput;
    try {
      const plan = await this.deps.planner.plan({
        tenantId: session.tenantId,
        computerId: session.computerId,
        sessionId: session.id,
        agentId: session.agentId,
        kind: session.kind,
        ...(record.maintenanceItemId === null ? {} : { maintenanceItemId: record.maintenanceItemId }),
      });
      input = { type: 'plan', sessionId, planId: this.deps.sessions.plans.remember(plan), plan };
    } catch (error) {
      const lagging = error instanceof PlanRefusedError && error.notKnownYet;
      const patient = this.deps.clock() - session.createdAt < planPatienceMs;
      if ((error instanceof PlanRefusedError && !(lagging && patient)) || error instanceof InvalidPlanError) {
        input = { type: 'plan-refused', sessionId, reason: `no plan: ${error.message}` };
      } else {
        this.deps.logger.warn(
          { err: error, sessionId },
          'deployments did not answer; the plan is asked for again',
        );
        input = { type: 'plan-postponed', sessionId };
      }
    }
    this.enqueueInternal(partition, input);
  }
}
