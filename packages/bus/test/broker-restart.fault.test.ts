import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defineEvent, type TopicName } from '@converge/contracts';
import { createLogger } from '@converge/telemetry';
import { Redis } from 'ioredis';
import { z } from 'zod';
import {
  createBus,
  redisSeenEvents,
  skipSeenEvents,
  type Bus,
  type OutgoingEvent,
  type Subscription,
} from '../src/index.ts';
import { brokers, newRunId, redisUrl, testLogLevel, waitFor } from './kafka-test-kit.ts';

const runId = newRunId();
const topic = `test.bus-restart-${runId}` as TopicName;
const tick = defineEvent(`converge.test.tick-${runId}.v1`, topic, z.object({ seq: z.number().int() }));

const stackScript = fileURLToPath(new URL('../../../scripts/stack.sh', import.meta.url));
const run = promisify(execFile);
async function kafkaBroker(command: 'up' | 'down'): Promise<void> {
  await run('bash', [stackScript, command, 'kafka']);
}

describe('bus across a broker restart', () => {
  let bus: Bus;
  let subscription: Subscription;
  let redis: Redis;
  const deliveries = new Map<string, number>();
  const effects = new Map<string, number>();

  beforeAll(async () => {
    await kafkaBroker('up');
    bus = createBus({
      brokers,
      clientId: `bus-fault-${runId}`,
      source: 'bus-fault-test',
      logger: createLogger({ service: 'bus-fault-test', level: testLogLevel }),
    });
    await bus.connect();
    await bus.ensureTopics([{ topic, partitions: 3, retentionMs: 60 * 60 * 1000 }]);
    redis = new Redis(redisUrl);
    subscription = await bus.subscribe({
      groupId: `bus-fault-${runId}`,
      topics: [topic],
      fromBeginning: true,
      handle: async (event) => {
        deliveries.set(event.id, (deliveries.get(event.id) ?? 0) + 1);
        await applyOnce(event);
      },
    });
    const applyOnce = skipSeenEvents(
      (event) => {
        effects.set(event.id, (effects.get(event.id) ?? 0) + 1);
        return Promise.resolve();
      },
      redisSeenEvents(redis, { namespace: `bus-fault:${runId}:seen`, ttlSeconds: 600 }),
    );
  });

  afterAll(async () => {
    // Whatever happened above, leave the shared broker running for the tests after this one.
    await kafkaBroker('up');
    await subscription.stop();
    await bus.disconnect();
    redis.disconnect();
  });

  it('loses no event and applies none twice while the broker is stopped and started under load', async () => {
    const sent: (OutgoingEvent<{ seq: number }> & { id: string })[] = [];
    const producing = new AbortController();
    // Like an outbox relay: ids are fixed before sending, and a failed send is retried with the same ids.
    const publishing = (async () => {
      for (let seq = 0; !producing.signal.aborted;) {
        const batch = Array.from({ length: 20 }, () => ({
          id: randomUUID(),
          subject: `agent-${seq % 7}`,
          data: { seq: seq++ },
        }));
        for (;;) {
          try {
            await bus.publishMany(tick, batch);
            break;
          } catch {
            await delay(500);
          }
        }
        sent.push(...batch);
        await delay(20);
      }
    })();

    await waitFor('events before the restart', () => effects.size >= 100);
    await kafkaBroker('down');
    await delay(1_100); // past the cached health answer
    await expect(bus.isHealthy()).resolves.toBe(false);
    await delay(2_000);
    const sentBeforeRestart = sent.length;
    await kafkaBroker('up');

    await waitFor('publishing to resume', () => sent.length >= sentBeforeRestart + 200, 60_000);
    producing.abort();
    await publishing;
    // A relay that crashed before clearing its outbox sends some events a second time.
    const resent = sent.slice(0, 50);
    await bus.publishMany(tick, resent);

    const everyId = new Set(sent.map((event) => event.id));
    await waitFor(
      'every event and the re-sent ones',
      () => [...everyId].every((id) => effects.has(id)) && sumOf(deliveries) >= sent.length + resent.length,
      60_000,
    );
    expect(effects.size).toBe(everyId.size);
    expect([...effects.values()].every((count) => count === 1)).toBe(true);
    expect(resent.every((event) => (deliveries.get(event.id) ?? 0) >= 2)).toBe(true);
    await expect(bus.isHealthy()).resolves.toBe(true);
  }, 150_000);
});

function sumOf(counts: Map<string, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}
