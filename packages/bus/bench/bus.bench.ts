// Throughput of the bus (envelope, validation, tracing, dead-letter checks) against plain kafkajs with the
// same producer settings, batching and partitions, on the local broker: `npm run bench:bus`.
// Prints one JSON line last; BENCH_EVENTS changes the number of events (default 50,000).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { defineEvent, type TopicName } from '@converge/contracts';
import { createLogger, startTelemetry } from '@converge/telemetry';
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import { z } from 'zod';
import { createBus, type OutgoingEvent } from '../src/index.ts';

const events = Number(process.env.BENCH_EVENTS ?? 50_000);
const batchSize = 1_000;
const partitions = 3;
const rounds = 2; // alternating rounds, best of each, so neither side pays the JIT warm-up alone
const targetRatio = 0.8;
const brokers = [`127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`];
const runId = randomUUID().slice(0, 8);

const heartbeatReported = defineEvent(
  `converge.bench.heartbeat-reported-${runId}.v1`,
  `bench.bus-${runId}` as TopicName,
  z.object({ agentId: z.string(), seq: z.number().int().nonnegative(), status: z.enum(['ok', 'degraded']) }),
);
type Heartbeat = z.infer<typeof heartbeatReported.schema>;

const payload = (seq: number): Heartbeat => ({ agentId: `agent-${seq % 500}`, seq, status: 'ok' });

interface Measured {
  producePerSecond: number;
  consumePerSecond: number;
  /** Events through produce and consume, one after the other. */
  perSecond: number;
}

function measured(produceMs: number, consumeMs: number): Measured {
  return {
    producePerSecond: Math.round(events / (produceMs / 1000)),
    consumePerSecond: Math.round(events / (consumeMs / 1000)),
    perSecond: Math.round(events / ((produceMs + consumeMs) / 1000)),
  };
}

/** Resolves with the time from the first to the last of `events` received. */
function consumeClock(): { onEvents(count: number): void; done: Promise<number> } {
  let received = 0;
  let startedAt = 0;
  let finish: (ms: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));
  return {
    onEvents: (count) => {
      if (received === 0) startedAt = performance.now();
      received += count;
      if (received === events) finish(performance.now() - startedAt);
    },
    done,
  };
}

async function benchBus(round: number): Promise<Measured> {
  const bus = createBus({
    brokers,
    clientId: 'bus-bench',
    source: 'bus-bench',
    logger: createLogger({ service: 'bus-bench', level: 'error' }),
  });
  await bus.connect();
  const topic = `${heartbeatReported.topic}-${round}` as TopicName;
  const contract = { ...heartbeatReported, topic };
  await bus.ensureTopics([{ topic, partitions }]);

  const startedAt = performance.now();
  for (let first = 0; first < events; first += batchSize) {
    const batch: OutgoingEvent<Heartbeat>[] = [];
    for (let seq = first; seq < Math.min(first + batchSize, events); seq++) {
      batch.push({ subject: `agent-${seq % 500}`, data: payload(seq) });
    }
    await bus.publishMany(contract, batch);
  }
  const produceMs = performance.now() - startedAt;

  const clock = consumeClock();
  await bus.subscribe({
    groupId: `bus-bench-${runId}-${round}`,
    topics: [topic],
    fromBeginning: true,
    handle: () => {
      clock.onEvents(1);
      return Promise.resolve();
    },
  });
  const consumeMs = await clock.done;
  await bus.disconnect();
  return measured(produceMs, consumeMs);
}

/**
 * Plain kafkajs; with `envelope`, the same nine CloudEvents headers are written and read by hand, which is what
 * the envelope costs in kafkajs itself (it encodes and decodes every header separately).
 */
async function benchKafkajs(round: number, envelope: boolean): Promise<Measured> {
  const kafka = new Kafka({ clientId: 'kafkajs-bench', brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await Promise.all([admin.connect(), producer.connect()]);
  const topic = `bench.kafkajs-${runId}-${round}-${envelope ? 'envelope' : 'bare'}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });

  const startedAt = performance.now();
  for (let first = 0; first < events; first += batchSize) {
    const messages: Message[] = [];
    for (let seq = first; seq < Math.min(first + batchSize, events); seq++) {
      const key = `agent-${seq % 500}`;
      const value = JSON.stringify(payload(seq));
      messages.push(envelope ? { key, value, headers: handMadeHeaders(key) } : { key, value });
    }
    await producer.send({ topic, messages });
  }
  const produceMs = performance.now() - startedAt;

  const clock = consumeClock();
  const consumer = kafka.consumer({ groupId: topic, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async (batchPayload) => {
      for (const message of batchPayload.batch.messages) {
        if (envelope) for (const header of Object.values(message.headers ?? {})) String(header);
        if (message.value) JSON.parse(message.value.toString('utf8'));
        batchPayload.resolveOffset(message.offset);
      }
      await batchPayload.heartbeat();
      clock.onEvents(batchPayload.batch.messages.length);
    },
  });
  const consumeMs = await clock.done;
  await consumer.disconnect();
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  return measured(produceMs, consumeMs);
}

function handMadeHeaders(subject: string): Record<string, string> {
  return {
    ce_specversion: '1.0',
    ce_id: randomUUID(),
    ce_type: heartbeatReported.type,
    ce_source: 'kafkajs-bench',
    ce_time: new Date().toISOString(),
    ce_subject: subject,
    'content-type': 'application/json',
    tenantid: 'tenant-1',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  };
}

function best(runs: Measured[]): Measured {
  return runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
}

execFileSync('bash', [fileURLToPath(new URL('../../../scripts/stack.sh', import.meta.url)), 'up', 'kafka'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
// Services run with telemetry started, so the bus pays for its spans here too.
const telemetry = startTelemetry({ serviceName: 'bus-bench' });
const busRuns: Measured[] = [];
const kafkajsRuns: Measured[] = [];
const kafkajsEnvelopeRuns: Measured[] = [];
for (let round = 0; round < rounds; round++) {
  kafkajsRuns.push(await benchKafkajs(round, false));
  kafkajsEnvelopeRuns.push(await benchKafkajs(round, true));
  busRuns.push(await benchBus(round));
}
await telemetry.shutdown();

const bus = best(busRuns);
const kafkajs = best(kafkajsRuns);
const kafkajsEnvelope = best(kafkajsEnvelopeRuns);
const ratioOf = (a: Measured, b: Measured) => Math.round((a.perSecond / b.perSecond) * 100) / 100;
const ratio = ratioOf(bus, kafkajs);
console.log(
  JSON.stringify({
    bench: 'bus',
    events,
    batch_size: batchSize,
    partitions,
    bus_produce_events_per_second: bus.producePerSecond,
    bus_consume_events_per_second: bus.consumePerSecond,
    kafkajs_produce_events_per_second: kafkajs.producePerSecond,
    kafkajs_consume_events_per_second: kafkajs.consumePerSecond,
    kafkajs_same_headers_produce_events_per_second: kafkajsEnvelope.producePerSecond,
    kafkajs_same_headers_consume_events_per_second: kafkajsEnvelope.consumePerSecond,
    bus_events_per_second: bus.perSecond,
    kafkajs_events_per_second: kafkajs.perSecond,
    kafkajs_same_headers_events_per_second: kafkajsEnvelope.perSecond,
    ratio_to_kafkajs_same_headers: ratioOf(bus, kafkajsEnvelope),
    ratio,
    target_ratio: targetRatio,
    met: ratio >= targetRatio,
  }),
);
