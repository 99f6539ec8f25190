import { setTimeout as delay } from 'node:timers/promises';
import { PartitionFencedError } from '@converge/errors';
import { extractTraceContext, SpanKind, withSpan, type Logger } from '@converge/telemetry';
import {
  AssignerProtocol,
  type Assigner,
  type EachBatchPayload,
  type Kafka,
  type PartitionAssigner,
  type Producer,
} from 'kafkajs';
import type { BusMetrics } from './bus-metrics.ts';
import { sendToDeadLetter } from './dead-letter.ts';
import { decodeEvent, envelopeHeaders, headerText, type ReceivedEvent } from './envelope.ts';

/*
 * The keyed-owner consumer (docs/architecture.md §9): the member the group gives partition n of the subscribed
 * topics is the only process that changes the aggregates keyed to it. The service takes a partition over (fence,
 * load) before its first batch, handles whole batches (apply, one bulk write, one send), and runs its own work
 * for the partition (timers, answers of other services) through the same queue, so one partition's work never
 * interleaves.
 */

export interface OwnedSubscribeOptions {
  groupId: string;
  /** Co-partitioned topics: the same partition count and the same key; partition n of each goes to one member. */
  topics: string[];
  /** This member was given partition n; resolves once the service may handle its messages. Retried on failure. */
  takeOver(partition: number): Promise<void>;
  /** This member no longer owns partition n (given to another, fenced, or stopping): forget its state. */
  release(partition: number): void;
  /**
   * One consumer batch of one topic-partition, in order, decoded and validated (invalid messages went to the
   * dead-letter topic). Resolving marks the batch done; a `PartitionFencedError` gives the partition up; any other
   * failure is retried with backoff, since an owner cannot skip a message of its aggregates.
   */
  handleBatch(partition: number, events: ReceivedEvent[]): Promise<void>;
  fromBeginning?: boolean;
  /** Partitions whose batches are handled at once (default 4); one partition's batches never overlap. */
  partitionsConsumedConcurrently?: number;
  /** First retry delay of a failed batch or take-over, doubled up to 5 s (default 200 ms). */
  retryDelayMs?: number;
}

export interface OwnedSubscription {
  /**
   * Runs `work` in partition n's queue, after the batches before it; rejects with `PartitionNotOwnedError` when
   * this member does not own n by the time the work's turn comes.
   */
  run: <T>(partition: number, work: () => Promise<T>) => Promise<T>;
  /** The partitions this member owns now. */
  owned: () => number[];
  /** Finishes the batch in progress, commits, leaves the group and releases every partition. */
  stop: () => Promise<void>;
}

export class PartitionNotOwnedError extends Error {
  constructor(partition: number) {
    super(`partition ${partition} is not owned by this member`);
    this.name = 'PartitionNotOwnedError';
  }
}

export interface OwnedSubscriptionDeps {
  kafka: Kafka;
  producer: Producer;
  logger: Logger;
  metrics: BusMetrics;
}

/**
 * Gives partition n of every subscribed topic to the same member (round robin over the sorted members), so topics
 * keyed alike are owned alike. Refuses topics whose partition counts differ: their keys would not line up.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }): Assigner => ({
  name: 'ConvergeCoPartitioned',
  version: 0,
  assign({ members, topics }) {
    const counts = topics.map((topic) => cluster.findTopicPartitionMetadata(topic).length);
    const partitions = counts[0] ?? 0;
    if (counts.some((count) => count !== partitions)) {
      const described = topics.map((topic, index) => `${topic}: ${counts[index]}`).join(', ');
      throw new Error(`co-partitioned topics must have the same number of partitions (${described})`);
    }
    const memberIds = members.map((member) => member.memberId).sort();
    const assignments = new Map(memberIds.map((id) => [id, new Map<string, number[]>()]));
    for (let partition = 0; partition < partitions; partition++) {
      const assignment = assignments.get(memberIds[partition % memberIds.length] ?? '');
      for (const topic of topics) assignment?.set(topic, [...(assignment.get(topic) ?? []), partition]);
    }
    return Promise.resolve(
      [...assignments].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: Object.fromEntries(assignment),
          userData: Buffer.alloc(0),
        }),
      })),
    );
  },
  protocol({ topics }) {
    return {
      name: 'ConvergeCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});

/**
 * kafkajs heartbeats only between batches and when asked: a batch waiting behind a long take-over (loading a
 * partition's aggregates) keeps the membership alive this way, so the group does not take the partition away.
 */
async function whileHeartbeating<T>(payload: EachBatchPayload, work: Promise<T>): Promise<T> {
  const timer = setInterval(() => {
    payload.heartbeat().catch(() => undefined);
  }, 1_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** One period of ownership of a partition; a partition lost and given back gets a new one. */
interface Tenure {
  partition: number;
  released: boolean;
}

const maxRetryDelayMs = 5_000;

export async function startOwnedSubscription(
  deps: OwnedSubscriptionDeps,
  opts: OwnedSubscribeOptions,
): Promise<OwnedSubscription> {
  const { groupId, topics } = opts;
  const logger = deps.logger.child({ component: 'bus', groupId });
  const retryDelayMs = opts.retryDelayMs ?? 200;
  const consumer = deps.kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    partitionAssigners: [coPartitionedAssigner],
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  let stopping = false;
  const tenures = new Map<number, Tenure>();
  /** Each partition's queue, across tenures, so a release and the next take-over never overlap. */
  const queues = new Map<number, Promise<unknown>>();
  /** Partitions paused after a fence; resumed when the group assigns them again. */
  const fenced = new Set<number>();

  function enqueue<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(partition) ?? Promise.resolve();
    const next = previous.then(work, work);
    queues.set(
      partition,
      next.catch(() => undefined),
    );
    return next;
  }

  function release(tenure: Tenure, why: string): void {
    if (tenure.released) return;
    tenure.released = true;
    if (tenures.get(tenure.partition) === tenure) tenures.delete(tenure.partition);
    opts.release(tenure.partition);
    logger.info({ partition: tenure.partition, why }, 'partition released');
  }

  async function takeOver(tenure: Tenure): Promise<void> {
    for (let attempt = 0; !tenure.released && !stopping; attempt++) {
      try {
        await opts.takeOver(tenure.partition);
        logger.info({ partition: tenure.partition }, 'partition taken over');
        return;
      } catch (error) {
        logger.warn({ err: error, partition: tenure.partition }, 'taking a partition over failed; retrying');
        await delay(Math.min(maxRetryDelayMs, retryDelayMs * 2 ** attempt));
      }
    }
  }

  function partitionsOf(partition: number) {
    return topics.map((topic) => ({ topic, partitions: [partition] }));
  }

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assigned = new Set<number>(payload.memberAssignment[topics[0] ?? ''] ?? []);
    for (const tenure of [...tenures.values()]) {
      if (!assigned.has(tenure.partition))
        void enqueue(tenure.partition, () => {
          release(tenure, 'revoked');
          return Promise.resolve();
        });
    }
    for (const partition of assigned) {
      if (fenced.delete(partition)) consumer.resume(partitionsOf(partition));
      // Every assignment re-checks the fence: the service keeps its state only if no one took the partition since.
      const tenure = tenures.get(partition) ?? { partition, released: false };
      tenures.set(partition, tenure);
      void enqueue(partition, () => takeOver(tenure));
    }
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    deps.metrics.recordLag(groupId, payload.topic, payload.partition, Number(payload.offsetLag));
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.error({ err: payload.error, restart: payload.restart }, 'kafka consumer crashed');
  });

  /** A newer owner holds the partition: stop work on it until the group assigns it again. */
  function giveUp(tenure: Tenure): void {
    fenced.add(tenure.partition);
    consumer.pause(partitionsOf(tenure.partition));
    release(tenure, 'fenced');
    logger.warn(
      { partition: tenure.partition },
      'a newer owner holds the partition; paused until reassigned',
    );
  }

  async function handle(
    payload: EachBatchPayload,
    tenure: Tenure,
    events: ReceivedEvent[],
  ): Promise<boolean> {
    const { batch } = payload;
    const first = batch.messages[0]?.headers ?? {};
    const parent = extractTraceContext({
      traceparent: headerText(first, envelopeHeaders.traceparent),
      tracestate: headerText(first, envelopeHeaders.tracestate),
    });
    const attributes = {
      'messaging.system': 'kafka',
      'messaging.destination.name': batch.topic,
      'messaging.destination.partition.id': String(batch.partition),
      'messaging.consumer.group.name': groupId,
      'messaging.batch.message_count': events.length,
    };
    for (let attempt = 0; ; attempt++) {
      if (tenure.released || !payload.isRunning()) return false;
      try {
        await withSpan(`process ${batch.topic}`, { kind: SpanKind.CONSUMER, parent, attributes }, () =>
          opts.handleBatch(batch.partition, events),
        );
        return true;
      } catch (error) {
        if (error instanceof PartitionFencedError) {
          giveUp(tenure);
          return false;
        }
        logger.warn({ err: error, partition: batch.partition, attempt }, 'batch failed; retrying');
        await delay(Math.min(maxRetryDelayMs, retryDelayMs * 2 ** attempt));
        await payload.heartbeat().catch(() => undefined);
      }
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const tenure = tenures.get(batch.partition);
    // Not (or no longer) ours: leave the offsets alone for the owner.
    if (tenure === undefined || tenure.released) return;
    const handled = await whileHeartbeating(
      payload,
      enqueue(batch.partition, async () => {
        if (tenure.released) return false;
        const events: ReceivedEvent[] = [];
        for (const message of batch.messages) {
          const decoded = decodeEvent(batch.topic, batch.partition, message);
          if (decoded.ok) events.push(decoded.event);
          else await sendToDeadLetter(deps, { groupId, logger }, batch, message, decoded.reason);
        }
        return events.length === 0 || (await handle(payload, tenure, events));
      }),
    );
    const last = batch.messages.at(-1);
    if (!handled || last === undefined) return;
    payload.resolveOffset(last.offset);
    await payload.commitOffsetsIfNecessary();
    await payload.heartbeat();
    deps.metrics.consumed(batch.topic, groupId, batch.messages.length);
  }

  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: opts.fromBeginning ?? false });
    await consumer.run({
      eachBatchAutoResolve: false,
      // Offsets are committed once a second, not after every batch: a commit round trip per batch held up the
      // next fetch. A new owner then starts up to a second back, which its idempotent handling absorbs.
      autoCommitInterval: 1_000,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 4,
      eachBatch,
    });
  } catch (error) {
    await consumer.disconnect();
    throw error;
  }
  logger.info({ topics }, 'subscribed as owner');

  let stopped: Promise<void> | undefined;
  return {
    run: (partition, work) => {
      const tenure = tenures.get(partition);
      if (tenure === undefined) return Promise.reject(new PartitionNotOwnedError(partition));
      return enqueue(partition, async () => {
        if (tenure.released) throw new PartitionNotOwnedError(partition);
        try {
          return await work();
        } catch (error) {
          if (error instanceof PartitionFencedError) giveUp(tenure);
          throw error;
        }
      });
    },
    owned: () => [...tenures.keys()].sort((a, b) => a - b),
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        await consumer.disconnect();
        for (const tenure of [...tenures.values()]) {
          await enqueue(tenure.partition, () => {
            release(tenure, 'stopping');
            return Promise.resolve();
          });
        }
        deps.metrics.forgetGroup(groupId);
        logger.info('owned subscription stopped');
      })();
      return stopped;
    },
  };
}
