import { setTimeout as delay } from 'node:timers/promises';
import { extractTraceContext, SpanKind, withSpan, type Logger } from '@converge/telemetry';
import type { EachBatchPayload, Kafka, KafkaMessage, Producer, TopicPartitionOffset } from 'kafkajs';
import type { BusMetrics } from './bus-metrics.ts';
import { sendToDeadLetter } from './dead-letter.ts';
import { decodeEvent, envelopeHeaders, headerText, type ReceivedEvent } from './envelope.ts';

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  handle: (event: ReceivedEvent) => Promise<void>;
  fromBeginning?: boolean;
  /** Handler attempts before the event goes to the dead-letter topic (default 5). */
  maxAttempts?: number;
  /** Wait before the first retry, doubled for each further one (default 200 ms). */
  retryDelayMs?: number;
  /** Partitions handled in parallel (default 1); events of one partition are always handled in order. */
  partitionsConsumedConcurrently?: number;
  /**
   * Commits handled offsets in the background, at most this often, instead of after every fetched batch (the
   * default), whose commit round trip holds up the next fetch: for consumers where latency counts. A crash
   * or rebalance then hands up to this much to the next member again, so the handler must be idempotent.
   */
  commitIntervalMs?: number;
  /**
   * Which messages to handle, by key (the event's subject): the others are passed over undecoded. For a
   * consumer that follows a few aggregates of a busy topic, such as a live view of some sessions.
   */
  wanted?: (subject: string) => boolean;
  /**
   * Most bytes one fetch brings of each partition (kafkajs' default 1 MiB; a larger first message still comes
   * whole). A fetch's messages are all handled before the next fetch and without a turn of the event loop, so
   * a consumer that has fallen behind otherwise takes thousands at once: for consumers where latency counts.
   */
  maxBytesPerPartition?: number;
}

export interface Subscription {
  /** Finishes the event in flight, commits what was handled and leaves the group. */
  stop(): Promise<void>;
}

export interface SubscriptionDeps {
  kafka: Kafka;
  /** Shared with publishing; used here for dead letters. */
  producer: Producer;
  logger: Logger;
  metrics: BusMetrics;
}

/** Outcome of one message: `done` moves the offset on; `abandoned` leaves it for redelivery (stopping). */
type Outcome = 'done' | 'abandoned';

export async function startSubscription(
  deps: SubscriptionDeps,
  opts: SubscribeOptions,
): Promise<Subscription> {
  const { kafka, metrics } = deps;
  const { groupId } = opts;
  const logger = deps.logger.child({ component: 'bus', groupId });
  const maxAttempts = opts.maxAttempts ?? 5;
  const retryDelayMs = opts.retryDelayMs ?? 200;
  const { wanted } = opts;

  // A short fetch wait keeps `stop()` quick: kafkajs waits for the fetch in flight before leaving the group.
  // A crashed member (SIGKILL, lost node) holds its partitions until its session times out: 10 s rather than
  // kafkajs' 30 s, so a restarted replica resumes the work within seconds.
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    ...(opts.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: opts.maxBytesPerPartition }),
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    metrics.recordLag(groupId, payload.topic, payload.partition, Number(payload.offsetLag));
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.error({ err: payload.error, restart: payload.restart }, 'kafka consumer crashed');
  });

  // With `commitIntervalMs`: the last offset of each partition handled since the last commit.
  const handledOffsets = new Map<string, TopicPartitionOffset>();
  let commitTimer: NodeJS.Timeout | undefined;

  /** Commits through the consumer, which does nothing once it is stopping (see `eachBatch` for that case). */
  async function commitHandled(
    commit: (offsets: TopicPartitionOffset[]) => Promise<void> = (offsets) => consumer.commitOffsets(offsets),
  ): Promise<void> {
    clearTimeout(commitTimer);
    commitTimer = undefined;
    if (handledOffsets.size === 0) return;
    // A committed offset names the next message to read.
    const offsets = [...handledOffsets.values()].map((handled) => ({
      ...handled,
      offset: (BigInt(handled.offset) + 1n).toString(),
    }));
    handledOffsets.clear();
    try {
      await commit(offsets);
    } catch (error) {
      logger.warn({ err: error }, 'handled offsets not committed; the next owner handles them again');
    }
  }

  function handledUpTo(topic: string, partition: number, offset: string): void {
    if (opts.commitIntervalMs === undefined) return;
    handledOffsets.set(`${topic}|${String(partition)}`, { topic, partition, offset });
    commitTimer ??= setTimeout(() => void commitHandled(), opts.commitIntervalMs);
  }

  if (opts.commitIntervalMs !== undefined) {
    // Before the partitions move, while this member may still commit for them.
    consumer.on(consumer.events.REBALANCING, () => void commitHandled());
  }

  function deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: string,
  ): Promise<void> {
    return sendToDeadLetter(deps, { groupId, logger }, { topic, partition }, message, reason);
  }

  async function handleWithRetries(
    spanName: string,
    event: ReceivedEvent,
    message: KafkaMessage,
    payload: EachBatchPayload,
  ): Promise<Outcome> {
    const headers = message.headers ?? {};
    const parent = extractTraceContext({
      traceparent: headerText(headers, envelopeHeaders.traceparent),
      tracestate: headerText(headers, envelopeHeaders.tracestate),
    });
    const attributes = {
      'messaging.system': 'kafka',
      'messaging.destination.name': event.topic,
      'messaging.consumer.group.name': groupId,
      'messaging.message.id': event.id,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await withSpan(spanName, { kind: SpanKind.CONSUMER, parent, attributes }, () => opts.handle(event));
        return 'done';
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (attempt >= maxAttempts) {
          await deadLetter(
            event.topic,
            event.partition,
            message,
            `handler failed ${attempt} times: ${reason}`,
          );
          return 'done';
        }
        logger.warn(
          { err: error, eventId: event.id, type: event.type, attempt },
          'event handler failed, retrying',
        );
        await delay(retryDelayMs * 2 ** (attempt - 1));
        if (!payload.isRunning() || payload.isStale()) return 'abandoned';
        await payload.heartbeat();
      }
    }
  }

  // Heartbeats between messages keep a slow batch from costing the group membership; an await per message
  // would cost throughput, and kafkajs sends at most one per heartbeat interval anyway.
  const heartbeatEveryMs = 1_000;
  let lastHeartbeat = Date.now();

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const spanName = `process ${batch.topic}`;
    let handled = 0;
    let lastResolved: string | undefined;
    try {
      for (const message of batch.messages) {
        if (!payload.isRunning() || payload.isStale()) break;
        if (wanted !== undefined && (message.key === null || !wanted(message.key.toString('utf8')))) {
          payload.resolveOffset(message.offset);
          lastResolved = message.offset;
          continue;
        }
        const decoded = decodeEvent(batch.topic, batch.partition, message);
        if (decoded.ok) {
          if ((await handleWithRetries(spanName, decoded.event, message, payload)) === 'abandoned') break;
          handled++;
        } else {
          await deadLetter(batch.topic, batch.partition, message, decoded.reason);
        }
        // Only now is the message finished, so only now may its offset be committed (at-least-once).
        payload.resolveOffset(message.offset);
        lastResolved = message.offset;
        if (Date.now() - lastHeartbeat > heartbeatEveryMs) {
          await payload.heartbeat();
          lastHeartbeat = Date.now();
        }
      }
    } finally {
      if (handled > 0) metrics.consumed(batch.topic, groupId, handled);
      if (lastResolved !== undefined) handledUpTo(batch.topic, batch.partition, lastResolved);
    }
    // Stopping: what was handled is committed (through the batch, as the consumer no longer commits) before
    // the member leaves the group.
    if (!payload.isRunning()) {
      await commitHandled((offsets) =>
        payload.commitOffsetsIfNecessary({
          topics: [...new Set(offsets.map(({ topic }) => topic))].map((topic) => ({
            topic,
            partitions: offsets
              .filter((handled) => handled.topic === topic)
              .map(({ partition, offset }) => ({ partition, offset })),
          })),
        }),
      );
    }
  }

  await consumer.connect();
  try {
    await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? false });
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: opts.commitIntervalMs === undefined,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch,
    });
  } catch (error) {
    await consumer.disconnect();
    throw error;
  }
  logger.info({ topics: opts.topics }, 'subscribed');

  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      stopping ??= (async () => {
        await commitHandled();
        await consumer.disconnect();
        metrics.forgetGroup(groupId);
        logger.info('subscription stopped');
      })();
      return stopping;
    },
  };
}
