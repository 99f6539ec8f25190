// Drives the identity service as production does: its own process, events on Kafka, a real token on REST.
import { randomUUID } from 'node:crypto';
import { createBus, type Bus } from '@converge/bus';
import {
  agentConnected,
  agentFactsReported,
  personUpserted,
  tenantUpserted,
  topics,
  type AgentFactsReported,
} from '@converge/contracts';
import type { Role } from '@converge/auth';
import { createLogger } from '@converge/telemetry';
import {
  getAccessToken,
  stack,
  startService,
  uniqueId,
  waitFor,
  type ServiceProcess,
} from '@converge/testing';
import { Kafka, logLevel, type Consumer } from 'kafkajs';

/** An event read back from `identity.computer-events`. */
export interface ComputerEvent {
  id: string;
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

export interface Harness {
  /** The first replica: the one `api` calls. */
  service: ServiceProcess;
  /** Every replica, each its own process with the same environment. */
  services: ServiceProcess[];
  /** The identity database of the run, for tests that check what is stored. */
  databaseName: string;
  bus: Bus;
  /** Every event published on `identity.computer-events` since the harness started (by any run). */
  computerEvents: ComputerEvent[];
  publishFacts(facts: AgentFactsReported, id?: string): Promise<void>;
  publishMany(facts: AgentFactsReported[]): Promise<void>;
  connectAgent(agentId: string, tenantId: string, epoch: number): Promise<void>;
  upsertPerson(tenantId: string, personId: string, upn: string, version: number): Promise<void>;
  disableOnboarding(tenantId: string, version: number): Promise<void>;
  api(role: Role, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Identity processes started (default 1). */
  replicas?: number;
  /** Partitions of every topic, the agent events' and the owners' (default 3). */
  partitions?: number;
}

export async function startHarness(
  env: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const partitions = options.partitions ?? 3;
  const run = uniqueId('identity');
  // This run's own topics, so runs never share (or replay) each other's events.
  const topicPrefix = `${run}.`;
  const logger = createLogger({ service: 'identity-test', level: 'silent' });
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
    { topic: topics.directoryEvents, partitions },
    { topic: topics.sessionEvents, partitions },
  ]);
  const databasePrefix = run.replace(/-/g, '_');
  const services = await Promise.all(
    Array.from({ length: options.replicas ?? 1 }, () =>
      startService({
        entry: 'services/identity/src/main.ts',
        name: 'identity',
        env: {
          MONGO_DATABASE_PREFIX: databasePrefix,
          KAFKA_TOPIC_PREFIX: topicPrefix,
          KAFKA_PARTITIONS: String(partitions),
          IDENTITY_TRUSTED_MANUFACTURERS: 'Dell Inc.',
          ...env,
        },
      }),
    ),
  );
  const [service] = services;
  if (service === undefined) throw new Error('no identity replica started');
  const computerEvents = await readComputerEvents(run, topicPrefix + topics.computerEvents);
  const facts = agentFactsReported;
  const tokens = new Map<Role, string>();

  return {
    service,
    services,
    databaseName: `${databasePrefix}_identity`,
    bus,
    computerEvents: computerEvents.events,
    publishFacts: async (data, id) => {
      await bus.publish(facts, {
        subject: data.agentId,
        tenantId: data.tenantId,
        data,
        ...(id ? { id } : {}),
      });
    },
    publishMany: async (all) => {
      await bus.publishMany(
        facts,
        all.map((data) => ({ subject: data.agentId, tenantId: data.tenantId, data })),
      );
    },
    connectAgent: async (agentId, tenantId, epoch) => {
      await bus.publish(agentConnected, {
        subject: agentId,
        tenantId,
        data: {
          agentId,
          tenantId,
          epoch,
          replica: 'gateway-0',
          transport: 'websocket',
          agentVersion: '1.0.0',
          connectedAt: new Date().toISOString(),
        },
      });
    },
    upsertPerson: async (tenantId, personId, upn, version) => {
      await bus.publish(personUpserted, {
        subject: tenantId,
        tenantId,
        data: {
          tenantId,
          personId,
          version,
          displayName: personId,
          upn,
          email: upn,
          entraObjectId: null,
          onPremisesSid: null,
          tags: [],
          updatedAt: new Date().toISOString(),
        },
      });
    },
    disableOnboarding: async (tenantId, version) => {
      await bus.publish(tenantUpserted, {
        subject: tenantId,
        tenantId,
        data: {
          tenantId,
          version,
          name: tenantId,
          slug: tenantId,
          active: true,
          parentTenantId: null,
          isMsp: false,
          tags: [],
          settings: {
            onboardingEnabled: false,
            timeZone: 'Europe/Berlin',
            businessHours: null,
            excludedFromCrossTenantDeployments: false,
          },
          updatedAt: new Date().toISOString(),
        },
      });
    },
    api: async (role, method, path, body) => {
      let token = tokens.get(role);
      if (token === undefined) {
        token = await getAccessToken(role);
        tokens.set(role, token);
      }
      const response = await fetch(`${service.baseUrl}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json() };
    },
    stop: async () => {
      await computerEvents.consumer.disconnect();
      await Promise.all(services.map((replica) => replica.stop()));
      await bus.disconnect();
    },
  };
}

/**
 * Reads `identity.computer-events` from its current end: the consumer is placed at each partition's high
 * watermark as it joins, so nothing published after the harness started is missed and history is skipped.
 */
async function readComputerEvents(
  run: string,
  topic: string,
): Promise<{ consumer: Consumer; events: ComputerEvent[] }> {
  const kafka = new Kafka({ clientId: run, brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const events: ComputerEvent[] = [];
  const consumer = kafka.consumer({ groupId: `${run}.computer-events`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
    eachMessage: ({ message }) => {
      const header = (name: string) => message.headers?.[name]?.toString() ?? '';
      events.push({
        id: header('ce_id'),
        type: header('ce_type'),
        subject: header('ce_subject'),
        data: JSON.parse(message.value?.toString() ?? '{}') as Record<string, unknown>,
      });
      return Promise.resolve();
    },
  });
  for (const { partition, high } of ends) consumer.seek({ topic, partition, offset: high });
  return { consumer, events };
}

let serial = 0;

/** A facts report of a fresh machine; every call is a different machine and agent unless overridden. */
export function machineFacts(overrides: Partial<AgentFactsReported> = {}): AgentFactsReported {
  serial++;
  return {
    agentId: `agent-${randomUUID()}`,
    tenantId: 'tenant-contoso',
    epoch: 1,
    replica: 'gateway-0',
    provider: 'converge',
    version: 1,
    hardwareUuid: randomUUID().toUpperCase(),
    serialNumber: `SN${serial}${randomUUID().slice(0, 6)}`,
    manufacturer: 'Dell Inc.',
    model: 'Latitude 7440',
    osInstallId: randomUUID(),
    hostname: `DESKTOP-${serial}`,
    os: 'windows',
    osVersion: '10.0.26100',
    deviceType: 'workstation',
    loggedOnUpns: ['ann@contoso.com'],
    reportedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** Polls until `probe` gives a value (waitFor resolves only with one), failing the test after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000) {
  return (await waitFor(probe, { timeoutMs })) as T;
}
