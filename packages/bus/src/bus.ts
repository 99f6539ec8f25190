// Before any client exists: the fix of kafkajs' idle timer loop (see there).
import './kafkajs-request-queue.ts';
import type { EventContract } from '@converge/contracts';
import { injectTraceContext, SpanKind, withSpan, type Logger } from '@converge/telemetry';
import { Kafka, logLevel, type Admin, type IHeaders, type Message, type SASLOptions } from 'kafkajs';
import { createBusMetrics } from './bus-metrics.ts';
import { deadLetterTopic } from './dead-letter.ts';
import { encodeEvent, sharedHeaders, type OutgoingEvent } from './envelope.ts';
import { installRecordEncoder, keyPartitioner } from './kafkajs-records.ts';
import { pinoLogCreator } from './kafka-log.ts';
import {
  startOwnedSubscription,
  type OwnedSubscribeOptions,
  type OwnedSubscription,
} from './owned-subscription.ts';
import { startSubscription, type SubscribeOptions, type Subscription } from './subscription.ts';

export interface BusOptions {
  brokers: string[];
  clientId: string;
  /** The CloudEvents `source` of everything this bus publishes: the service name. */
  source: string;
  logger: Logger;
  /**
   * Prepended to every topic this bus creates, publishes to and subscribes to, so several installations, or
   * test runs, can share one broker without reading each other's events. Empty in a normal installation.
   */
  topicPrefix?: string;
  /** TLS to the brokers. */
  tls?: boolean;
  /** SASL credentials, when the brokers ask for them. */
  sasl?: BusSasl;
}

export interface BusSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** kafkajs' options type is a union keyed by the mechanism. */
function saslOptions({ mechanism, username, password }: BusSasl): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}

/** One event with its contract, for `publishAll`. */
export interface ContractEvent {
  contract: EventContract<unknown>;
  event: OutgoingEvent<unknown>;
}

/** Pairs an event with its contract, checking the payload's type where the pair is made. */
export function contractEvent<T>(contract: EventContract<T>, event: OutgoingEvent<T>): ContractEvent {
  return { contract, event };
}

export interface TopicSpec {
  topic: string;
  /**
   * How many partitions; `{ like }` gives it those of another topic (waiting for its owner to create it), as
   * topics consumed co-partitioned must have (`subscribeOwned`).
   */
  partitions: number | { like: string };
  /** Retention of the topic and of its dead-letter topic (default 7 days). */
  retentionMs?: number;
}

export interface Bus {
  connect(): Promise<void>;
  /** Creates each topic and its `<topic>.dlt`; topics that already exist are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Validates and publishes one event; resolves with its id once the broker acknowledged it. */
  publish<T>(contract: EventContract<T>, event: OutgoingEvent<T>): Promise<string>;
  /**
   * Validates every event, then publishes them in one request (all or nothing is sent when one is invalid).
   * Keep a batch well under the broker's 1 MB batch limit, e.g. a few thousand small events.
   */
  publishMany<T>(contract: EventContract<T>, events: readonly OutgoingEvent<T>[]): Promise<string[]>;
  subscribe(opts: SubscribeOptions): Promise<Subscription>;
  /** Subscribes as the single writer of the aggregates keyed to the partitions it is given (architecture §9). */
  subscribeOwned(opts: OwnedSubscribeOptions): Promise<OwnedSubscription>;
  /**
   * Validates and sends events of several contracts in one request (all or nothing is sent when one is invalid):
   * what one batch of an owner produced. Each carries its own id, so a re-send after a crash is recognisable.
   */
  publishAll(events: readonly ContractEvent[]): Promise<void>;
  /** Whether a broker answers; cheap enough for `/readyz` (cached for a second). */
  isHealthy(): Promise<boolean>;
  /** Stops every subscription gracefully, then the producer. */
  disconnect(): Promise<void>;
}

const defaultRetentionMs = 7 * 24 * 60 * 60 * 1000;
// Half the broker's default limit on a record batch (1 MiB), leaving room for framing.
const maxRequestBytes = 512 * 1024;

/** About what a message adds to a request: its key, value and headers. */
function messageBytes(message: Message): number {
  let bytes = 64 + (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += name.length + (typeof value === 'string' || Buffer.isBuffer(value) ? value.length : 0);
  }
  return bytes;
}
const healthTtlMs = 1_000;
const healthTimeoutMs = 1_000;

export function createBus(opts: BusOptions): Bus {
  const logger = opts.logger.child({ component: 'bus' });
  if (!installRecordEncoder())
    logger.warn('kafkajs produced before the bus was created: it keeps its own (slower) record encoder');
  const prefix = opts.topicPrefix ?? '';
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    ...(opts.tls ? { ssl: true } : {}),
    ...(opts.sasl ? { sasl: saslOptions(opts.sasl) } : {}),
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(opts.logger),
  });
  // Idempotent: a retried send is written once. kafkajs then retries without limit (backing off up to 5 s),
  // so a publish waits out a broker restart instead of failing; callers publish from an outbox relay.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: keyPartitioner,
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
  });
  const admin: Admin = kafka.admin();
  const metrics = createBusMetrics();
  const subscriptions = new Set<Subscription>();
  let connecting: Promise<void> | undefined;

  async function partitionCount(partitions: TopicSpec['partitions']): Promise<number> {
    if (typeof partitions === 'number') return partitions;
    const like = prefix + partitions.like;
    await waitForTopics(admin, [like], logger);
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [like] });
    return metadata[0]?.partitions.length ?? 1;
  }

  /** Keeps a subscription for `disconnect` until it is stopped. */
  function track(subscription: Subscription): Subscription {
    const tracked: Subscription = {
      stop: async () => {
        subscriptions.delete(tracked);
        await subscription.stop();
      },
    };
    subscriptions.add(tracked);
    return tracked;
  }
  let health: { checkedAt: number; healthy: Promise<boolean> } | undefined;

  async function send<T>(contract: EventContract<T>, events: readonly OutgoingEvent<T>[]): Promise<string[]> {
    const topic = prefix + contract.topic;
    const attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.destination.name': topic,
      'messaging.batch.message_count': events.length,
      'cloudevents.event_type': contract.type,
    };
    return withSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes }, async () => {
      const traceHeaders: Record<string, string> = {};
      injectTraceContext(traceHeaders);
      const shared = sharedHeaders(contract, opts.source, traceHeaders);
      const ids: string[] = [];
      const messages: Message[] = [];
      for (const event of events) {
        const { id, message } = encodeEvent(contract, event, shared);
        ids.push(id);
        messages.push(message);
      }
      await producer.send({ topic, messages });
      metrics.published(topic, messages.length);
      return ids;
    });
  }

  async function probeBroker(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, healthTimeoutMs, false);
    });
    try {
      const cluster = admin.describeCluster().then(
        (described) => described.brokers.length > 0,
        () => false,
      );
      return await Promise.race([cluster, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    connect: () => {
      connecting ??= (async () => {
        await producer.connect();
        await admin.connect();
        logger.info({ brokers: opts.brokers }, 'kafka connected');
      })().catch((error: unknown) => {
        connecting = undefined;
        throw error;
      });
      return connecting;
    },

    ensureTopics: async (specs) => {
      // Topics partitioned like another are made second, so they may follow one made in the same call.
      const fixed = specs.filter((spec) => typeof spec.partitions === 'number');
      const following = specs.filter((spec) => typeof spec.partitions !== 'number');
      for (const group of [fixed, following]) {
        if (group.length === 0) continue;
        const counts = await Promise.all(group.map((spec) => partitionCount(spec.partitions)));
        const topics = group.flatMap((spec, index) =>
          [prefix + spec.topic, deadLetterTopic(prefix + spec.topic)].map((topic) => ({
            topic,
            numPartitions: counts[index] ?? 1,
            configEntries: [{ name: 'retention.ms', value: String(spec.retentionMs ?? defaultRetentionMs) }],
          })),
        );
        const created = await admin.createTopics({ topics, waitForLeaders: false });
        await waitForLeaders(
          admin,
          topics.map((t) => t.topic),
        );
        logger.info({ topics: topics.map((t) => t.topic), created }, 'topics ensured');
      }
    },

    publish: async (contract, event) => {
      const [id] = await send(contract, [event]);
      if (id === undefined) throw new Error('publish produced no event id');
      return id;
    },

    publishMany: (contract, events) => send(contract, events),

    subscribe: async (subscribeOpts) => {
      const prefixed = { ...subscribeOpts, topics: subscribeOpts.topics.map((topic) => prefix + topic) };
      await waitForTopics(admin, prefixed.topics, logger);
      return track(await startSubscription({ kafka, producer, logger: opts.logger, metrics }, prefixed));
    },

    subscribeOwned: async (ownedOpts) => {
      const prefixed = { ...ownedOpts, topics: ownedOpts.topics.map((topic) => prefix + topic) };
      await waitForTopics(admin, prefixed.topics, logger);
      const owned = await startOwnedSubscription({ kafka, producer, logger: opts.logger, metrics }, prefixed);
      const tracked = track(owned);
      return { run: owned.run, owned: owned.owned, stop: () => tracked.stop() };
    },

    publishAll: async (events) => {
      if (events.length === 0) return;
      const traceHeaders: Record<string, string> = {};
      injectTraceContext(traceHeaders);
      const sharedByType = new Map<string, Readonly<IHeaders>>();
      // Requests are kept under the broker's size limit; they go one after another, so order per key holds.
      let request = new Map<string, Message[]>();
      let requestBytes = 0;
      const send = async () => {
        const topicMessages = [...request].map(([topic, messages]) => ({ topic, messages }));
        request = new Map();
        requestBytes = 0;
        await producer.sendBatch({ topicMessages });
        for (const { topic, messages } of topicMessages) metrics.published(topic, messages.length);
      };
      for (const { contract, event } of events) {
        let shared = sharedByType.get(contract.type);
        if (shared === undefined) {
          shared = sharedHeaders(contract, opts.source, traceHeaders);
          sharedByType.set(contract.type, shared);
        }
        const { message } = encodeEvent(contract, event, shared);
        const bytes = messageBytes(message);
        if (requestBytes > 0 && requestBytes + bytes > maxRequestBytes) await send();
        const topic = prefix + contract.topic;
        const messages = request.get(topic) ?? [];
        messages.push(message);
        request.set(topic, messages);
        requestBytes += bytes;
      }
      await send();
    },

    isHealthy: () => {
      const now = Date.now();
      if (!health || now - health.checkedAt > healthTtlMs)
        health = { checkedAt: now, healthy: probeBroker() };
      return health.healthy;
    },

    disconnect: async () => {
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
      await producer.disconnect();
      await admin.disconnect();
      metrics.close();
      connecting = undefined;
      logger.info('kafka disconnected');
    },
  };
}

const leaderWaitMs = 30_000;
const topicWaitMs = 120_000;

/**
 * A service may start before the owners of the topics it consumes have created them (auto-creation is off,
 * and only an owner creates its topics): wait for them, so start-up order does not matter, but not forever,
 * so a misspelt or missing owner shows up as a failed start.
 */
async function waitForTopics(admin: Admin, topics: readonly string[], logger: Logger): Promise<void> {
  const deadline = Date.now() + topicWaitMs;
  let logged = false;
  for (;;) {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    if (Date.now() >= deadline)
      throw new Error(`topics still missing after ${topicWaitMs} ms: ${missing.join(', ')}`);
    if (!logged) logger.info({ missing }, 'waiting for topics their owners have not created yet');
    logged = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * kafkajs' own `waitForLeaders` gives up on the UNKNOWN_TOPIC_OR_PARTITION a fresh KRaft broker answers
 * for a moment after creating a topic, so wait here until every partition has a leader.
 */
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + leaderWaitMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      if (metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    if (Date.now() >= deadline)
      throw new Error(`topics have no leaders after ${leaderWaitMs} ms: ${topics.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
