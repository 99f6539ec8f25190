import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners, type Consumer, type Producer } from 'kafkajs';

// KAFKA_PORT / REDIS_PORT follow scripts/stack.sh, so a test can run against a second, private stack.
export const brokers = [`127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`];
export const redisUrl = `redis://127.0.0.1:${process.env.REDIS_PORT ?? '16379'}`;
export const testLogLevel = process.env.LOG_LEVEL ?? 'error';

/** A short id that keeps this run's topics, groups, types and keys apart from any other run's. */
export function newRunId(): string {
  return randomUUID().slice(0, 8);
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

export interface RawMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
}

/** Plain kafkajs, for what the bus must not be used for: writing junk and reading the raw records. */
export function plainKafka(): Kafka {
  return new Kafka({ clientId: 'bus-test-plain', brokers, logLevel: logLevel.NOTHING });
}

export async function plainProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return producer;
}

/** Records every message of `topics` from their beginning, headers decoded as text. */
export async function spyOn(
  kafka: Kafka,
  groupId: string,
  topics: string[],
): Promise<{ consumer: Consumer; messages: RawMessage[] }> {
  const messages: RawMessage[] = [];
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ topic, partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        if (value !== undefined) headers[name] = String(value);
      }
      messages.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString('utf8'),
        value: message.value?.toString('utf8'),
        headers,
      });
      return Promise.resolve();
    },
  });
  return { consumer, messages };
}
