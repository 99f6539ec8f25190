import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { createBus, type Bus, type ReceivedEvent } from '@converge/bus';
import {
  agentCommandRequested,
  createCommandIds,
  topics,
  type AgentCommandRequested,
} from '@converge/contracts';
import {
  AgentGatewayService,
  create,
  EnrollRequestSchema,
  EnrollResponseSchema,
  fromBinary,
  makeGrpcClient,
  toBinary,
} from '@converge/proto';
import { createLogger } from '@converge/telemetry';
import { stack, startService, testKeys, uniqueId, waitFor, type ServiceProcess } from '@converge/testing';
import { helloFacts, type Credential, type GatewayAddress } from './fake-agent.ts';

/** This test file's own topics: gateways of other test files answer `undeliverable` for commands they consume. */
export const topicPrefix = `${uniqueId('gateway-test')}.`;

export interface Gateway extends GatewayAddress {
  service: ServiceProcess;
}

/**
 * Test-speed timings: a short heartbeat, lease and janitor, a quick drain. The heartbeat leaves a loaded CI
 * machine (services, brokers and test workers on two cores) a few seconds of stall before an idle close.
 */
export const fastTimings = {
  HEARTBEAT_INTERVAL: '2s',
  REPLICA_LEASE_TTL: '2500ms',
  JANITOR_INTERVAL: '500ms',
  PRESENCE_FLUSH_INTERVAL: '100ms',
  FORWARD_ACK_TIMEOUT: '2s',
};

/** This test file's `COMMAND_SECRETS_KEY`, which every replica it starts holds, as deployments would. */
export const commandSecretsKey = randomBytes(32);

/** Starts a gateway replica as its own process, agent listeners on free ports read from its log. */
export async function startGateway(env: Record<string, string>): Promise<Gateway> {
  const service = await startService({
    entry: 'services/agent-gateway/src/main.ts',
    name: 'agent-gateway',
    env: {
      AGENT_PORT: '0',
      AGENT_GRPC_PORT: '0',
      KAFKA_TOPIC_PREFIX: topicPrefix,
      COMMAND_SECRETS_KEY: commandSecretsKey.toString('base64'),
      ...fastTimings,
      ...env,
    },
  });
  const ready = await service.waitForLog((line) => line.msg === 'agent listeners ready');
  return { service, agentPort: Number(ready.agentPort), agentGrpcPort: Number(ready.agentGrpcPort) };
}

/** Commands a gateway has sent to its database (`MONGO_DATABASE_PREFIX` `databasePrefix`), from its `store_operations` metric. */
export async function storeOperations(gateway: Gateway, databasePrefix: string): Promise<number> {
  const exposition = await (await fetch(`${gateway.service.baseUrl}/metrics`)).text();
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (
      /^store_operations(_total)?\{/.test(line) &&
      line.includes(`database="${databasePrefix}_agent_gateway"`)
    ) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

export async function createInstallToken(
  gateway: Gateway,
  accessToken: string,
  body: Record<string, unknown>,
): Promise<{ id: string; token: string }> {
  const response = await fetch(`${gateway.service.baseUrl}/api/v1/install-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`install token not created: ${String(response.status)}`);
  return (await response.json()) as { id: string; token: string };
}

/** Enrolls over HTTP; the credential, or the HTTP status of the refusal. */
export async function enrollOverHttp(
  gateway: GatewayAddress,
  installToken: string,
): Promise<Credential | number> {
  const response = await fetch(`http://127.0.0.1:${String(gateway.agentPort)}/agent/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: toBinary(
      EnrollRequestSchema,
      create(EnrollRequestSchema, { installToken, facts: helloFacts('enrolling') }),
    ),
  });
  if (response.status !== 200) return response.status;
  const answer = fromBinary(EnrollResponseSchema, new Uint8Array(await response.arrayBuffer()));
  return { agentId: answer.agentId, credentialSecret: answer.credentialSecret };
}

/** Enrolls over gRPC; the credential, or the gRPC status code of the refusal. */
export async function enrollOverGrpc(
  gateway: GatewayAddress,
  installToken: string,
): Promise<Credential | number> {
  const client = makeGrpcClient(
    AgentGatewayService,
    `127.0.0.1:${String(gateway.agentGrpcPort)}`,
    grpc.credentials.createInsecure(),
  );
  try {
    return await new Promise((resolve, reject) => {
      client.enroll(
        create(EnrollRequestSchema, { installToken }),
        { deadline: Date.now() + 5_000 },
        (error, answer) => {
          if (error) {
            if (error.code === grpc.status.DEADLINE_EXCEEDED) reject(error);
            else resolve(error.code);
          } else if (answer) resolve({ agentId: answer.agentId, credentialSecret: answer.credentialSecret });
        },
      );
    });
  } finally {
    client.close();
  }
}

/** Everything published on the gateway's event topics since the start of this test file. */
export class EventLog {
  readonly events: ReceivedEvent[] = [];
  readonly bus: Bus;
  private constructor(bus: Bus) {
    this.bus = bus;
  }

  static async start(): Promise<EventLog> {
    const bus = createBus({
      brokers: stack.kafkaBrokers,
      clientId: 'gateway-test',
      source: 'gateway-test',
      logger: createLogger({ service: 'gateway-test', level: 'silent' }),
      topicPrefix,
    });
    await bus.connect();
    await bus.ensureTopics(
      [topics.agentEvents, topics.commands, topics.commandResults].map((topic) => ({ topic, partitions: 3 })),
    );
    const log = new EventLog(bus);
    await bus.subscribe({
      groupId: uniqueId('gateway-test'),
      topics: [topics.agentEvents, topics.commandResults],
      fromBeginning: true,
      partitionsConsumedConcurrently: 3,
      handle: (event) => {
        log.events.push(event);
        return Promise.resolve();
      },
    });
    return log;
  }

  about(id: string, type?: string): ReceivedEvent[] {
    return this.events.filter((event) => event.subject === id && (type === undefined || event.type === type));
  }

  async waitFor(id: string, type: string, timeoutMs = 15_000): Promise<ReceivedEvent> {
    // waitFor resolves only with a truthy probe result.
    return (await waitFor(() => this.about(id, type)[0], { timeoutMs, intervalMs: 25 })) as ReceivedEvent;
  }

  /** A command's output chunks or results: keyed by their session, so found by the command id they carry. */
  resultsOf(commandId: string, type: string): ReceivedEvent[] {
    return this.events.filter(
      (event) => event.type === type && (event.data as { commandId?: unknown }).commandId === commandId,
    );
  }

  async waitForResult(commandId: string, type: string, timeoutMs = 15_000): Promise<ReceivedEvent> {
    return (await waitFor(() => this.resultsOf(commandId, type)[0], {
      timeoutMs,
      intervalMs: 25,
    })) as ReceivedEvent;
  }

  stop(): Promise<void> {
    return this.bus.disconnect();
  }
}

/** Issues command ids as the sessions service does, with the key every gateway of the test is started with. */
export const commandIds = createCommandIds(testKeys.commandId);

export function command(
  agentId: string,
  tenantId: string,
  fields: Partial<AgentCommandRequested> = {},
): AgentCommandRequested {
  const sessionId = fields.sessionId ?? uniqueId('session');
  return {
    commandId: commandIds.issue(agentId, sessionId, uniqueId('cmd')),
    agentId,
    tenantId,
    sessionId,
    actionId: uniqueId('action'),
    language: 'bash',
    context: 'system',
    body: 'echo hello',
    parameters: {},
    timeoutSeconds: 60,
    requestedAt: new Date().toISOString(),
    ...fields,
  };
}

export async function sendCommand(bus: Bus, requested: AgentCommandRequested): Promise<void> {
  await bus.publish(agentCommandRequested, {
    subject: requested.agentId,
    tenantId: requested.tenantId,
    data: requested,
  });
}

const kafka = new Kafka({
  clientId: 'gateway-test-admin',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
});

/** Waits until the gateway's command consumer group is stable with `members` members. */
export async function waitForCommandGroup(groupId: string, members: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const { groups } = await admin.describeGroups([groupId]);
        const group = groups[0];
        return group?.state === 'Stable' && group.members.length === members;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  } finally {
    await admin.disconnect();
  }
}

/** The partition of `gateway.commands` a command for this agent goes to (the producer's partitioner). */
export function commandPartition(agentId: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: topicPrefix + topics.commands,
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key: agentId, value: null },
  });
}
