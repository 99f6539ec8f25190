import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defineEvent, type TopicName } from '@converge/contracts';
import { PartitionFencedError } from '@converge/errors';
import { createLogger } from '@converge/telemetry';
import { z } from 'zod';
import {
  contractEvent,
  createBus,
  PartitionNotOwnedError,
  type Bus,
  type OwnedSubscription,
  type ReceivedEvent,
} from '../src/index.ts';
import { brokers, newRunId, testLogLevel, waitFor } from './kafka-test-kit.ts';

const runId = newRunId();
// Test topics are not among the product's topics, hence the assertions.
const commandsTopic = `test.owned-commands-${runId}` as TopicName;
const resultsTopic = `test.owned-results-${runId}` as TopicName;
const payload = z.object({ aggregateId: z.string(), n: z.number().int() });
const commanded = defineEvent(`converge.test.owned-commanded-${runId}.v1`, commandsTopic, payload);
const resulted = defineEvent(`converge.test.owned-resulted-${runId}.v1`, resultsTopic, payload);
const groupId = `owned-test-${runId}`;
const partitions = 4;

/** What one member saw, in order. */
interface Member {
  name: string;
  bus: Bus;
  subscription: OwnedSubscription;
  log: string[];
  handled: ReceivedEvent[];
  /** Partitions whose next batch answers with a fence error, once. */
  fenceNext: Set<number>;
}

const members: Member[] = [];

async function startMember(name: string): Promise<Member> {
  const bus = createBus({
    brokers,
    clientId: `${groupId}-${name}`,
    source: 'owned-test',
    logger: createLogger({ service: 'owned-test', level: testLogLevel }),
  });
  await bus.connect();
  const member: Member = { name, bus, log: [], handled: [], fenceNext: new Set(), subscription: undefined! };
  member.subscription = await bus.subscribeOwned({
    groupId,
    topics: [commandsTopic, resultsTopic],
    fromBeginning: true,
    retryDelayMs: 20,
    takeOver: async (partition) => {
      member.log.push(`take-over ${partition}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
    release: (partition) => member.log.push(`release ${partition}`),
    handleBatch: (partition, events) => {
      if (member.fenceNext.delete(partition)) return Promise.reject(new PartitionFencedError(partition));
      member.log.push(`batch ${partition}`);
      member.handled.push(...events);
      return Promise.resolve();
    },
  });
  members.push(member);
  return member;
}

async function publish(from: number, to: number): Promise<void> {
  const events = [];
  for (let n = from; n < to; n++) {
    const aggregateId = `aggregate-${n % 20}`;
    events.push(contractEvent(commanded, { subject: aggregateId, data: { aggregateId, n } }));
    events.push(contractEvent(resulted, { subject: aggregateId, data: { aggregateId, n } }));
  }
  await members[0]!.bus.publishAll(events);
}

const numbers = (member: Member) => new Set(member.handled.map((event) => (event.data as { n: number }).n));

describe('the owned subscription', () => {
  beforeAll(async () => {
    const admin = createBus({
      brokers,
      clientId: `${groupId}-admin`,
      source: 'owned-test',
      logger: createLogger({ service: 'owned-test', level: testLogLevel }),
    });
    await admin.connect();
    await admin.ensureTopics([
      { topic: commandsTopic, partitions },
      { topic: resultsTopic, partitions },
    ]);
    await admin.disconnect();
  });

  afterAll(async () => {
    for (const member of members) {
      await member.subscription.stop();
      await member.bus.disconnect();
    }
  });

  it('takes each partition over before its first batch, and hands one key of both topics to one place', async () => {
    const first = await startMember('first');
    await publish(0, 40);
    await waitFor('the first member to handle all events', () => first.handled.length === 80);
    expect(first.subscription.owned()).toEqual([0, 1, 2, 3]);
    for (let partition = 0; partition < partitions; partition++) {
      const takeOver = first.log.indexOf(`take-over ${partition}`);
      const batch = first.log.indexOf(`batch ${partition}`);
      expect(takeOver).toBeGreaterThanOrEqual(0);
      if (batch >= 0) expect(takeOver).toBeLessThan(batch);
    }
    // Co-partitioned: every aggregate's commands and results came from the same partition number.
    const partitionOf = new Map<string, number>();
    for (const event of first.handled) {
      const known = partitionOf.get(event.subject) ?? event.partition;
      expect(event.partition).toBe(known);
      partitionOf.set(event.subject, known);
    }
    // Per partition, in publishing order.
    const ns = first.handled
      .filter((event) => event.topic.endsWith(commandsTopic))
      .map((e) => e.data as { n: number });
    for (const subject of partitionOf.keys()) {
      const mine = ns.filter((data) => `aggregate-${data.n % 20}` === subject).map((data) => data.n);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  });

  it('shares the partitions with a second member, the released ones taken over before their next batch', async () => {
    const [first] = members;
    const second = await startMember('second');
    await waitFor(
      'the partitions to be shared',
      () => first!.subscription.owned().length === 2 && second.subscription.owned().length === 2,
      40_000,
    );
    await publish(40, 80);
    await waitFor('both members to handle the new events', () => {
      const seen = new Set([...numbers(first!), ...numbers(second)]);
      return Array.from({ length: 40 }, (_, i) => 40 + i).every((n) => seen.has(n));
    });
    const secondOwns = new Set(second.subscription.owned());
    for (const partition of secondOwns) expect(first!.log).toContain(`release ${partition}`);
    // After the hand-over, each partition's new events went to its owner only.
    for (const event of [...first!.handled, ...second.handled]) {
      const { n } = event.data as { n: number };
      if (n < 40) continue;
      const owner = secondOwns.has(event.partition) ? second : first!;
      expect(owner.handled).toContain(event);
    }
    await expect(
      second.subscription.run(second.subscription.owned()[0]!, () => Promise.resolve('done')),
    ).resolves.toBe('done');
    await expect(
      second.subscription.run(first!.subscription.owned()[0]!, () => Promise.resolve('x')),
    ).rejects.toBeInstanceOf(PartitionNotOwnedError);
  });

  it('stops work on a fenced partition until the group assigns it again, losing no event', async () => {
    const [first, second] = members;
    const fencedPartition = first!.subscription.owned()[0]!;
    first!.fenceNext.add(fencedPartition);
    await publish(80, 120);
    await waitFor(
      'the fenced partition to be released',
      () => !first!.subscription.owned().includes(fencedPartition),
    );
    expect(first!.log).toContain(`release ${fencedPartition}`);
    // The second member leaves: the group gives everything to the first, which takes the fenced partition again.
    await second!.subscription.stop();
    await second!.bus.disconnect();
    members.splice(1, 1);
    await waitFor(
      'the first member to own every partition',
      () => first!.subscription.owned().length === 4,
      40_000,
    );
    await waitFor(
      'every event to be handled by someone',
      () => {
        const seen = new Set([...numbers(first!), ...numbers(second!)]);
        return Array.from({ length: 120 }, (_, i) => i).every((n) => seen.has(n));
      },
      40_000,
    );
  });
});
