import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ContractViolation, defineEvent, type TopicName } from '@converge/contracts';
import { createLogger, currentTraceId, startTelemetry, withSpan, type Telemetry } from '@converge/telemetry';
import { Redis } from 'ioredis';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { z } from 'zod';
import {
  createBus,
  deadLetterTopic,
  isEvent,
  redisSeenEvents,
  skipSeenEvents,
  type Bus,
  type ReceivedEvent,
  type Subscription,
} from '../src/index.ts';
import {
  brokers,
  newRunId,
  plainKafka,
  plainProducer,
  redisUrl,
  spyOn,
  testLogLevel,
  waitFor,
  type RawMessage,
} from './kafka-test-kit.ts';

const runId = newRunId();
// Test topics are not among the product's topics, hence the assertion.
const topic = `test.bus-${runId}` as TopicName;
const thingCounted = defineEvent(
  `converge.test.thing-counted-${runId}.v1`,
  topic,
  z.object({ thingId: z.string(), count: z.number().int().nonnegative() }),
);

describe('bus', () => {
  let telemetry: Telemetry;
  let bus: Bus;
  let subscription: Subscription;
  let kafka: Kafka;
  let producer: Producer;
  let spy: { consumer: Consumer; messages: RawMessage[] };
  let redis: Redis;

  const received: ReceivedEvent[] = [];
  const traceIdsSeen = new Map<string, string | undefined>();
  // Per-subject behaviour of the handler, set by each test for its own subjects.
  const behaviours = new Map<string, (event: ReceivedEvent) => Promise<void>>();

  const receivedWithSubject = (subject: string) => received.filter((event) => event.subject === subject);
  const spiedOn = (onTopic: string, subject: string) =>
    spy.messages.filter((message) => message.topic === onTopic && message.key === subject);

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'bus-test' });
    bus = createBus({
      brokers,
      clientId: `bus-test-${runId}`,
      source: 'bus-test',
      logger: createLogger({ service: 'bus-test', level: testLogLevel }),
    });
    await bus.connect();
    await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 60 * 60 * 1000 }]);
    redis = new Redis(redisUrl);
    kafka = plainKafka();
    producer = await plainProducer(kafka);
    [spy, subscription] = await Promise.all([
      spyOn(kafka, `bus-test-spy-${runId}`, [topic, deadLetterTopic(topic)]),
      bus.subscribe({
        groupId: `bus-test-${runId}`,
        topics: [topic],
        fromBeginning: true,
        maxAttempts: 3,
        retryDelayMs: 20,
        handle: async (event) => {
          traceIdsSeen.set(event.id, currentTraceId());
          await behaviours.get(event.subject)?.(event);
          received.push(event);
        },
      }),
    ]);
  });

  afterAll(async () => {
    await subscription.stop();
    await bus.disconnect();
    await spy.consumer.disconnect();
    await producer.disconnect();
    redis.disconnect();
    await telemetry.shutdown();
  });

  it('delivers an event in the CloudEvents envelope, keyed by its subject, continuing the producer trace', async () => {
    const subject = `computer-${runId}-1`;
    const time = new Date('2025-01-02T03:04:05.678Z');
    let producerTraceId = '';
    const id = await withSpan('test producer', {}, async (span) => {
      producerTraceId = span.spanContext().traceId;
      return bus.publish(thingCounted, {
        subject,
        tenantId: 'tenant-a',
        time,
        data: { thingId: 't1', count: 1 },
      });
    });

    await waitFor('the event', () => receivedWithSubject(subject).length === 1);
    const event = receivedWithSubject(subject)[0]!;
    expect(event).toMatchObject({
      id,
      type: thingCounted.type,
      source: 'bus-test',
      subject,
      tenantId: 'tenant-a',
      time: '2025-01-02T03:04:05.678Z',
      data: { thingId: 't1', count: 1 },
      topic,
    });
    expect(isEvent(event, thingCounted)).toBe(true);
    expect(producerTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdsSeen.get(id)).toBe(producerTraceId);

    await waitFor('the raw record', () => spiedOn(topic, subject).length === 1);
    const raw = spiedOn(topic, subject)[0]!;
    expect(raw.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: id,
      ce_type: thingCounted.type,
      ce_source: 'bus-test',
      ce_time: '2025-01-02T03:04:05.678Z',
      ce_subject: subject,
      'content-type': 'application/json',
      tenantid: 'tenant-a',
    });
    expect(raw.headers.ce_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(raw.headers.traceparent).toMatch(new RegExp(`^00-${producerTraceId}-[0-9a-f]{16}-01$`));
    expect(JSON.parse(raw.value!)).toEqual({ thingId: 't1', count: 1 });
  });

  it('dead-letters malformed messages with the reason and keeps consuming the ones behind them', async () => {
    const subject = `computer-${runId}-2`;
    const envelope = (type: string) => ({
      ce_specversion: '1.0',
      ce_id: `junk-${type}`,
      ce_type: type,
      ce_source: 'someone-else',
      ce_time: new Date().toISOString(),
      ce_subject: subject,
      'content-type': 'application/json',
    });
    await producer.send({
      topic,
      messages: [
        { key: subject, value: '{"thingId": "t2", ', headers: envelope(thingCounted.type) },
        { key: subject, value: '{"thingId":"t2","count":1}' },
        { key: subject, value: '{"thingId":"t2","count":"many"}', headers: envelope(thingCounted.type) },
        {
          key: subject,
          value: '{"thingId":"t2","count":1}',
          headers: envelope('converge.test.unheard-of.v1'),
        },
      ],
    });
    await bus.publish(thingCounted, { subject, data: { thingId: 't2', count: 2 } });

    await waitFor('the valid event behind the junk', () => receivedWithSubject(subject).length === 1);
    expect(receivedWithSubject(subject)[0]!.data).toEqual({ thingId: 't2', count: 2 });

    await waitFor('four dead letters', () => spiedOn(deadLetterTopic(topic), subject).length === 4);
    const deadLetters = spiedOn(deadLetterTopic(topic), subject);
    const original = spiedOn(topic, subject);
    expect(deadLetters.map((message) => message.headers.dlt_reason)).toEqual([
      expect.stringContaining('value is not JSON'),
      'unsupported ce_specversion: missing',
      expect.stringContaining('count: Invalid input: expected number, received string'),
      `unknown event type: converge.test.unheard-of.v1`,
    ]);
    deadLetters.forEach((deadLetter, index) => {
      expect(deadLetter.value).toBe(original[index]!.value);
      expect(deadLetter.headers).toMatchObject({
        dlt_topic: topic,
        dlt_partition: String(original[index]!.partition),
        dlt_offset: original[index]!.offset,
      });
    });
    expect(deadLetters[0]!.headers.ce_id).toBe(`junk-${thingCounted.type}`);
  });

  it('refuses to publish data that violates the contract and sends nothing of the batch', async () => {
    const subject = `computer-${runId}-3`;
    await expect(
      bus.publish(thingCounted, { subject, data: { thingId: 't3', count: -1 } }),
    ).rejects.toBeInstanceOf(ContractViolation);
    await expect(
      bus.publishMany(thingCounted, [
        { subject, data: { thingId: 't3', count: 1 } },
        { subject, data: { thingId: 't3', count: 1.5 } },
      ]),
    ).rejects.toThrow('count: Invalid input: expected int');

    // Same key, same partition: had anything of the above been sent, it would arrive before this marker.
    const markerIds = await bus.publishMany(thingCounted, [
      { subject, data: { thingId: 'marker', count: 0 } },
    ]);
    await waitFor('the marker', () => spiedOn(topic, subject).length > 0);
    expect(spiedOn(topic, subject).map((message) => message.headers.ce_id)).toEqual(markerIds);
  });

  it('has no second effect when an event is delivered again, and retries a failed handling', async () => {
    const subject = `computer-${runId}-4`;
    const effects = new Map<string, number>();
    let failuresLeft = 1;
    const applyOnce = skipSeenEvents(
      (event) => {
        if (failuresLeft-- > 0) return Promise.reject(new Error('projection store briefly unavailable'));
        effects.set(event.id, (effects.get(event.id) ?? 0) + 1);
        return Promise.resolve();
      },
      redisSeenEvents(redis, { namespace: `bus-test:${runId}:seen`, ttlSeconds: 60 }),
    );
    behaviours.set(subject, applyOnce);

    const id = await bus.publish(thingCounted, { subject, data: { thingId: 't4', count: 4 } });
    // An outbox relay that crashed before clearing its outbox publishes the same event again.
    await bus.publish(thingCounted, { subject, id, data: { thingId: 't4', count: 4 } });
    await bus.publish(thingCounted, { subject, id, data: { thingId: 't4', count: 4 } });

    await waitFor('three deliveries', () => receivedWithSubject(subject).length === 3);
    expect(receivedWithSubject(subject).map((event) => event.id)).toEqual([id, id, id]);
    expect(effects.get(id)).toBe(1);
  });

  it('dead-letters an event whose handler keeps failing, with the error as reason, and moves on', async () => {
    const subject = `computer-${runId}-5`;
    let attempts = 0;
    behaviours.set(subject, (event) => {
      if (isEvent(event, thingCounted) && event.data.thingId === 'poison') {
        attempts++;
        return Promise.reject(new Error('cannot apply poison'));
      }
      return Promise.resolve();
    });

    await bus.publish(thingCounted, { subject, data: { thingId: 'poison', count: 1 } });
    await bus.publish(thingCounted, { subject, data: { thingId: 'fine', count: 1 } });

    await waitFor('the event behind the poison', () => receivedWithSubject(subject).length === 1);
    expect(attempts).toBe(3);
    await waitFor('the dead letter', () => spiedOn(deadLetterTopic(topic), subject).length === 1);
    expect(spiedOn(deadLetterTopic(topic), subject)[0]!.headers.dlt_reason).toBe(
      'handler failed 3 times: cannot apply poison',
    );
  });

  it('passes over, undecoded, the messages whose subject a subscription does not want', async () => {
    const followed = `computer-${runId}-6`;
    const passedOver = `computer-${runId}-7`;
    const seen: ReceivedEvent[] = [];
    const asked: string[] = [];
    const following = await bus.subscribe({
      groupId: `bus-test-wanted-${runId}`,
      topics: [topic],
      fromBeginning: true,
      wanted: (subject) => {
        asked.push(subject);
        return subject === followed;
      },
      handle: (event) => {
        seen.push(event);
        return Promise.resolve();
      },
    });
    try {
      // Not even a valid event: a subscription that decoded it would dead-letter it.
      await producer.send({ topic, messages: [{ key: passedOver, value: 'not json' }] });
      await bus.publish(thingCounted, { subject: passedOver, data: { thingId: 't7', count: 7 } });
      await bus.publish(thingCounted, { subject: followed, data: { thingId: 't6', count: 6 } });
      await waitFor('the followed event', () => seen.some((event) => event.subject === followed));
      // In order on their partition: once asked about the second, the first is behind the subscription.
      await waitFor('both passed over', () => asked.filter((subject) => subject === passedOver).length === 2);
      await waitFor('the main subscription', () => receivedWithSubject(passedOver).length === 1);
      await waitFor('its dead letter', () => spiedOn(deadLetterTopic(topic), passedOver).length === 1);
      expect(seen.map((event) => event.subject)).toEqual([followed]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(spiedOn(deadLetterTopic(topic), passedOver)).toHaveLength(1);
    } finally {
      await following.stop();
    }
  });

  it('reports the broker as healthy', async () => {
    await expect(bus.isHealthy()).resolves.toBe(true);
  });
});
