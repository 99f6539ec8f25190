import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@converge/telemetry';
import { Kafka, logLevel, type Consumer, type KafkaMessage, type Producer } from 'kafkajs';
import type { Connection, Model } from 'mongoose';
import {
  asTenantId,
  connectMongo,
  startOutboxRelay,
  TenantRepository,
  withOutbox,
  type OutboxEntry,
} from '../src/index.ts';
import { computerModel, type Computer } from './fixtures/computer.model.ts';

const mongoUri = 'mongodb://127.0.0.1:27117/';
const runId = randomUUID().slice(0, 8);
const dbName = `store_outbox_${runId}`;
const topic = `store-outbox-${runId}`;
const logger = createLogger({ service: 'store-test', level: 'silent' });
const writerScript = fileURLToPath(new URL('./fixtures/outbox-writer.ts', import.meta.url));
const tenantId = asTenantId('tenant-relay');

const kafka = new Kafka({ clientId: 'store-test', brokers: ['127.0.0.1:19092'], logLevel: logLevel.NOTHING });
const received: KafkaMessage[] = [];
let producer: Producer;
let consumer: Consumer;
let conn: Connection;
let model: Model<Computer>;
let computers: TenantRepository<Computer>;

async function publishToKafka(entries: OutboxEntry[]): Promise<void> {
  await producer.send({
    topic,
    messages: entries.map((entry) => ({
      key: entry.subject,
      value: JSON.stringify(entry.data),
      headers: { ce_id: entry.id, ce_type: entry.type },
    })),
  });
}

async function until<T>(
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function addComputerWithEvent(id: string): Promise<string> {
  const eventId = randomUUID();
  await computers.insert(tenantId, {
    _id: id,
    name: id,
    status: 'needs-onboarding',
    seenAt: null,
    version: 1,
    outbox: [],
  });
  await computers.update(
    tenantId,
    id,
    1,
    withOutbox({ $set: { status: 'identified' } }, [
      {
        id: eventId,
        type: 'converge.computer.identified.v1',
        topic,
        subject: id,
        tenantId,
        data: { computerId: id },
      },
    ]),
  );
  return eventId;
}

beforeAll(async () => {
  conn = await connectMongo({ uri: mongoUri, dbName, logger });
  model = computerModel(conn);
  await model.init();
  computers = new TenantRepository(model);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  consumer = kafka.consumer({ groupId: `store-test-${runId}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.push(message);
      await Promise.resolve();
    },
  });
});

afterAll(async () => {
  await consumer.disconnect();
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  await conn.dropDatabase();
  await conn.close();
});

describe('the outbox relay', () => {
  it('publishes an event whose relay was killed mid-publish, once, after the lease lapses', async () => {
    const writer = spawn(process.execPath, [writerScript, mongoUri, dbName, topic, '1000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    writer.stdout.setEncoding('utf8');
    writer.stdout.on('data', (chunk: string) => (output += chunk));
    const line = await until(
      () => /publishing (\S+)\n/.exec(output),
      (match) => match !== null || writer.exitCode !== null,
    );
    writer.kill('SIGKILL');
    await once(writer, 'exit').catch(() => undefined);
    const eventId = line?.[1];
    expect(eventId).toBeDefined();

    // The state change and its event were written together; the event is still waiting.
    const stored = await computers.getById(asTenantId('tenant-kill'), 'c-kill');
    expect(stored.status).toBe('identified');
    expect(stored.outbox.map((entry) => entry.id)).toEqual([eventId]);

    const published: string[] = [];
    const relay = startOutboxRelay({
      model,
      logger,
      intervalMs: 100,
      publish: async (entries) => {
        await publishToKafka(entries);
        published.push(...entries.map((entry) => entry.id));
      },
    });
    try {
      await until(
        () => published,
        (ids) => ids.length > 0,
      );
      const arrived = await until(
        () => received,
        (messages) => messages.length > 0,
      );
      expect(arrived.map((message) => message.headers?.ce_id?.toString())).toEqual([eventId]);
      expect(JSON.parse(arrived[0]!.value!.toString())).toEqual({ computerId: 'c-kill' });

      await relay.flush();
      expect(published).toEqual([eventId]);
      expect((await computers.getById(asTenantId('tenant-kill'), 'c-kill')).outbox).toEqual([]);
    } finally {
      await relay.stop();
    }
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets.map((partition) => partition.high)).toEqual(['1']);
  });

  it('leaves the entries in place when publishing fails, and sends them in a later round', async () => {
    const eventId = await addComputerWithEvent('c-retry');
    let attempts = 0;
    const published: string[] = [];
    const relay = startOutboxRelay({
      model,
      logger,
      intervalMs: 60_000,
      retryDelayMs: 0,
      publish: async (entries) => {
        attempts += 1;
        if (attempts === 1) throw new Error('broker unavailable');
        published.push(...entries.map((entry) => entry.id));
        await Promise.resolve();
      },
    });
    try {
      await until(
        () => attempts,
        (n) => n >= 1,
      );
      await relay.flush();
      expect(attempts).toBe(2);
      expect(published).toEqual([eventId]);
      expect((await computers.getById(tenantId, 'c-retry')).outbox).toEqual([]);
    } finally {
      await relay.stop();
    }
  });

  it('keeps the entries of a failed round stored until then', async () => {
    const eventId = await addComputerWithEvent('c-down');
    const relay = startOutboxRelay({
      model,
      logger,
      intervalMs: 60_000,
      publish: () => Promise.reject(new Error('broker unavailable')),
    });
    await relay.flush();
    await relay.stop();
    expect((await computers.getById(tenantId, 'c-down')).outbox.map((entry) => entry.id)).toEqual([eventId]);
    await model.updateOne({ _id: 'c-down' }, { $set: { outbox: [] } });
  });

  it('sends each entry once when several relays share the collection', async () => {
    const eventIds = new Set<string>();
    for (let n = 0; n < 12; n += 1) eventIds.add(await addComputerWithEvent(`c-many-${n}`));
    const published: string[] = [];
    const publish = async (entries: OutboxEntry[]): Promise<void> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      published.push(...entries.map((entry) => entry.id));
    };
    const replicas = [1, 2, 3].map(() =>
      startOutboxRelay({ model, logger, intervalMs: 20, batchSize: 2, publish }),
    );
    try {
      await until(
        () => published,
        (ids) => ids.length >= eventIds.size,
      );
      await Promise.all(replicas.map((relay) => relay.flush()));
    } finally {
      await Promise.all(replicas.map((relay) => relay.stop()));
    }
    expect(published.length).toBe(eventIds.size);
    expect(new Set(published)).toEqual(eventIds);
  });

  it("publishes what this process's writes store at once, without waiting for its search of the collection", async () => {
    const published: string[] = [];
    let publishing: () => void = () => undefined;
    const firstPublishStarted = new Promise<void>((resolve) => (publishing = resolve));
    let release: () => void = () => undefined;
    const firstPublishHeld = new Promise<void>((resolve) => (release = resolve));
    const relay = startOutboxRelay({
      model,
      logger,
      intervalMs: 60_000,
      publish: async (entries) => {
        // The first publish waits until the document got another entry meanwhile.
        if (published.length === 0) {
          publishing();
          await firstPublishHeld;
        }
        published.push(...entries.map((entry) => entry.id));
      },
    });
    try {
      await relay.flush();
      const first = await addComputerWithEvent('c-hinted');
      await firstPublishStarted;
      const second = randomUUID();
      await computers.update(
        tenantId,
        'c-hinted',
        2,
        withOutbox({ $set: { name: 'pc-2' } }, [
          {
            id: second,
            type: 'converge.computer.changed.v1',
            topic,
            subject: 'c-hinted',
            tenantId,
            data: {},
          },
        ]),
      );
      release();
      const sent = await until(
        () => published,
        (ids) => ids.length >= 2,
        5000,
      );
      expect(sent).toEqual([first, second]);
      expect((await computers.getById(tenantId, 'c-hinted')).outbox).toEqual([]);
    } finally {
      await relay.stop();
    }
  });
});
