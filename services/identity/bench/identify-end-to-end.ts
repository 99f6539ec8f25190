// The end-to-end part of the identification benchmark: Kafka in, the real service process, FerretDB out.
import { createBus } from '@converge/bus';
import { agentFactsReported, computerIdentified, topics, type AgentFactsReported } from '@converge/contracts';
import { createLogger } from '@converge/telemetry';
import { stack, startService, uniqueId } from '@converge/testing';
import { Kafka, logLevel } from 'kafkajs';
import mongoose from 'mongoose';

export interface EndToEndResult {
  agents: number;
  /** Partitions of the agent events and of the owners' topic, as `npm start` creates them. */
  partitions: number;
  decisions: { 'create-computer': number; 'attach-agent': number; failed: number };
  seconds: number;
  decisions_per_second: number;
  /** Commands the service process sent to the database while deciding, by command, and per decision. */
  store_operations: { total: number; per_decision: number; by_command: Record<string, number> };
  completed: boolean;
}

/** The service's `store_operations_total` counters (its Prometheus `/metrics`), summed by command. */
async function storeOperationsOf(baseUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const byCommand: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^store_operations_total\{(.*)\} ([0-9.e+]+)$/.exec(line);
    if (match === null) continue;
    const command = /command="([^"]*)"/.exec(match[1] ?? '')?.[1] ?? 'unknown';
    byCommand[command] = (byCommand[command] ?? 0) + Number(match[2]);
  }
  return byCommand;
}

const batchSize = 2_000;
/** What `npm start` gives every topic (`KAFKA_PARTITIONS`' default). */
const partitions = 12;

/**
 * Facts of `agents` agents: 80 % new machines, 10 % a second RMM's agent on one of those machines (attached; at most one per machine),
 * 10 % a blank UUID from an untrusted manufacturer (failed), in a seeded order.
 */
function agentFacts(run: string, agents: number, random: () => number): AgentFactsReported[] {
  const hex = (digits: number) =>
    Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');
  const facts: AgentFactsReported[] = [];
  const machines: AgentFactsReported[] = [];
  for (let index = 0; index < agents; index++) {
    const roll = random();
    const base: AgentFactsReported = {
      agentId: `agent-${index}`,
      tenantId: `${run}-tenant-${index % 50}`,
      epoch: 1,
      replica: 'gateway-0',
      provider: 'converge',
      version: 1,
      hardwareUuid: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
      serialNumber: `SN${hex(10)}`,
      manufacturer: 'Dell Inc.',
      model: 'OptiPlex 7010',
      osInstallId: hex(32),
      hostname: `PC-${index}`,
      os: 'windows',
      osVersion: '10.0.26100',
      deviceType: 'workstation',
      loggedOnUpns: [`user${index % 1000}@contoso.com`],
      reportedAt: new Date(Date.UTC(2026, 10, 23)).toISOString(),
    };
    // Each machine gains at most one second agent: another of the same provider would need a decision.
    const [machine] = roll < 0.1 ? machines.splice(Math.floor(random() * machines.length), 1) : [];
    if (machine !== undefined) {
      facts.push({ ...machine, agentId: `rmm-${index}`, provider: 'cw-automate' });
    } else if (roll < 0.2) {
      facts.push({ ...base, hardwareUuid: '00000000-0000-0000-0000-000000000000', manufacturer: 'Generic' });
    } else {
      machines.push(base);
      facts.push(base);
    }
  }
  return facts;
}

export async function measureEndToEnd(agents: number, random: () => number): Promise<EndToEndResult> {
  const run = uniqueId('identity-bench');
  const prefix = run.replace(/-/g, '_');
  // This run's own topics: the bench must neither read nor replay anybody else's events.
  const topicPrefix = `${run}.`;
  const logger = createLogger({ service: 'identify-bench', level: 'warn' });
  const bus = createBus({
    brokers: stack.kafkaBrokers,
    clientId: run,
    source: 'agent-gateway',
    logger,
    topicPrefix,
  });
  await bus.connect();
  await bus.ensureTopics([
    { topic: topics.agentEvents, partitions },
    { topic: topics.directoryEvents, partitions: 1 },
    { topic: topics.sessionEvents, partitions: 1 },
  ]);
  const facts = agentFacts(run, agents, random);
  for (let start = 0; start < facts.length; start += batchSize) {
    await bus.publishMany(
      agentFactsReported,
      facts
        .slice(start, start + batchSize)
        .map((data) => ({ subject: data.agentId, tenantId: data.tenantId, data })),
    );
  }
  await bus.disconnect();

  const expected = {
    'create-computer': facts.filter((f) => f.provider === 'converge' && f.manufacturer === 'Dell Inc.')
      .length,
    'attach-agent': facts.filter((f) => f.provider === 'cw-automate').length,
    failed: facts.filter((f) => f.manufacturer === 'Generic').length,
  };
  const conn = await mongoose
    .createConnection(stack.mongoUri, { dbName: `${prefix}_identity`, maxPoolSize: 1 })
    .asPromise();
  const service = await startService({
    entry: 'services/identity/src/main.ts',
    name: 'identity',
    env: {
      MONGO_DATABASE_PREFIX: prefix,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      IDENTITY_TRUSTED_MANUFACTURERS: 'Dell Inc.',
      KAFKA_PARTITIONS: String(partitions),
    },
  }).catch(async (error: unknown) => {
    await conn.close();
    throw error;
  });
  // Generous: a run that stops early reports `completed: false` and the rate of the decisions it saw.
  const timeoutMs = Math.max(5 * 60_000, agents * 10);
  const operationsBefore = await storeOperationsOf(service.baseUrl);
  const started = process.hrtime.bigint();
  const db = conn.db;
  if (db === undefined) throw new Error('no database');
  // Done when the router has committed every agent event and the owners every input it made of them: an owner
  // commits a batch's offsets only once it stored the batch and sent its events. Watched through the broker's
  // offsets, so the bench adds nothing to what the database and the service do.
  const progress = await consumerProgress(run, [
    { groupId: `${prefix}.identity.agent-events`, topic: topicPrefix + topics.agentEvents },
    { groupId: `${prefix}.identity.identification`, topic: topicPrefix + topics.identificationInputs },
  ]);
  let decided = 0;
  while (process.hrtime.bigint() - started < BigInt(timeoutMs) * 1_000_000n) {
    const [routed, inputs] = await progress.read();
    decided = Math.min(agents, inputs?.committed ?? 0);
    if (routed?.committed === agents && inputs !== undefined && inputs.committed >= inputs.end) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await progress.stop();
  const operationsAfter = await storeOperationsOf(service.baseUrl);
  const byCommand = Object.fromEntries(
    Object.entries(operationsAfter)
      .map(([command, count]) => [command, count - (operationsBefore[command] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
  const operations = Object.values(byCommand).reduce((sum, count) => sum + count, 0);
  await service.stop();
  // What was decided, checked after the clock stopped: computers (the collection also holds the owners' fences,
  // batch records and lookups), their agents, the failures, and the identified events on Kafka.
  const computers = await db
    .collection<{ agents: unknown[] }>('computers')
    .find({ identityKey: { $exists: true } }, { projection: { agents: 1 } })
    .toArray();
  const failures = await db.collection('identificationfailures').countDocuments({});
  const identified = await countIdentified(run, topicPrefix + topics.computerEvents);
  await db.dropDatabase();
  await conn.close();
  const attached = computers.reduce((sum, computer) => sum + computer.agents.length, 0);
  return {
    agents,
    partitions,
    decisions: expected,
    seconds: Number(seconds.toFixed(2)),
    decisions_per_second: Math.round(Math.min(decided, agents) / seconds),
    store_operations: {
      total: operations,
      per_decision: Number((operations / Math.max(1, Math.min(decided, agents))).toFixed(4)),
      by_command: byCommand,
    },
    completed:
      decided >= agents &&
      computers.length === expected['create-computer'] &&
      attached === expected['create-computer'] + expected['attach-agent'] &&
      failures === expected.failed &&
      identified === attached,
  };
}

/** The committed offsets of consumer groups, each summed over its topic's partitions, beside the topic's end. */
async function consumerProgress(
  run: string,
  groups: readonly { groupId: string; topic: string }[],
): Promise<{ read(): Promise<{ committed: number; end: number }[]>; stop(): Promise<void> }> {
  const kafka = new Kafka({ clientId: run, brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const sum = (offsets: readonly { offset: string }[]) =>
    offsets.reduce((total, { offset }) => total + Math.max(0, Number(offset)), 0);
  return {
    read: () =>
      Promise.all(
        groups.map(async ({ groupId, topic }) => {
          const [ends, [committed]] = await Promise.all([
            admin.fetchTopicOffsets(topic),
            admin.fetchOffsets({ groupId, topics: [topic] }),
          ]);
          return {
            committed: sum(committed?.partitions ?? []),
            end: sum(ends.map(({ high }) => ({ offset: high }))),
          };
        }),
      ),
    stop: () => admin.disconnect(),
  };
}

/** Counts this run's `computer identified` events, reading the run's own topic from the beginning to its end. */
async function countIdentified(run: string, topic: string): Promise<number> {
  const kafka = new Kafka({ clientId: run, brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.map(({ partition, high }) => [partition, Number(high)]));
  let count = 0;
  const consumer = kafka.consumer({ groupId: `${run}.computer-events`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const read = new Promise<void>((resolve) => {
    const check = () => {
      if ([...remaining.values()].every((left) => left <= 0)) resolve();
    };
    check();
    void consumer.run({
      eachMessage: ({ partition, message }) => {
        if (message.headers?.ce_type?.toString() === computerIdentified.type) count++;
        remaining.set(
          partition,
          Number(ends.find((end) => end.partition === partition)?.high) - Number(message.offset) - 1,
        );
        check();
        return Promise.resolve();
      },
    });
  });
  await read;
  await consumer.disconnect();
  return count;
}
