import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import {
  agentConnected,
  agentDisconnected,
  commandCompleted,
  topics,
  type AgentCommandRequested,
  type AgentConnected,
  type AgentDisconnected,
  type CommandCompleted,
} from '@converge/contracts';
import { getAccessToken, stack, uniqueId, waitFor } from '@converge/testing';
import { Redis } from 'ioredis';
import { FakeAgent, type Credential } from './fake-agent.ts';
import {
  command,
  commandPartition,
  createInstallToken,
  enrollOverHttp,
  EventLog,
  sendCommand,
  startGateway,
  topicPrefix,
  waitForCommandGroup,
  type Gateway,
} from './gateway-harness.ts';

const tenantId = 'tenant-contoso';
const groupId = uniqueId('gateway-commands');
const keyPrefix = uniqueId('gw');
const shared = {
  MONGO_DATABASE_PREFIX: uniqueId('gw').replace(/-/g, '_'),
  COMMANDS_GROUP_ID: groupId,
  REDIS_KEY_PREFIX: keyPrefix,
  KAFKA_PARTITIONS: '3',
};
const partitions = 3;
let a: Gateway;
let b: Gateway;
let log: EventLog;
let adminToken: string;
let redis: Redis;
const agents: FakeAgent[] = [];

async function enrolled(gateway: Gateway): Promise<Credential> {
  const { token } = await createInstallToken(gateway, adminToken, { tenantId });
  const credential = await enrollOverHttp(gateway, token);
  if (typeof credential === 'number') throw new Error(`enrollment refused: ${String(credential)}`);
  return credential;
}

async function connectTo(
  gateway: Gateway,
  credential: Credential,
  transport: 'websocket' | 'grpc' = 'websocket',
) {
  const agent = new FakeAgent(credential, gateway, transport);
  agents.push(agent);
  await agent.connect();
  return agent;
}

/** Waits until Redis presence says the agent is held by the replica. */
async function presentOn(agentId: string, replica: string): Promise<void> {
  await waitFor(async () => (await redis.hget(`${keyPrefix}:presence`, agentId))?.startsWith(`${replica}|`));
}

/** The partitions of `gateway.commands` each member of the group consumes. */
async function memberPartitions(): Promise<number[][]> {
  const admin = new Kafka({
    clientId: 'gateway-test-admin',
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return (groups[0]?.members ?? []).map(
      (member) =>
        AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment[
          topicPrefix + topics.commands
        ] ?? [],
    );
  } finally {
    await admin.disconnect();
  }
}

function undeliverable(commandId: string): boolean {
  return log
    .resultsOf(commandId, commandCompleted.type)
    .some((event) => (event.data as CommandCompleted).outcome === 'undeliverable');
}

// Generous: the drained replica's partitions move to the other replica by a consumer group rebalance, which a
// loaded CI machine can stretch to tens of seconds.
async function deliverOnce(requested: AgentCommandRequested, agent: FakeAgent): Promise<void> {
  await waitFor(() => agent.deliveries.has(requested.commandId) || undeliverable(requested.commandId), {
    timeoutMs: 40_000,
  });
  if (!agent.deliveries.has(requested.commandId)) await sendCommand(log.bus, requested);
  await waitFor(() => agent.deliveries.get(requested.commandId) === 1, { timeoutMs: 40_000 });
}

beforeAll(async () => {
  redis = new Redis(stack.redisUrl);
  [log, adminToken] = await Promise.all([EventLog.start(), getAccessToken('msp-admin')]);
  [a, b] = await Promise.all([
    startGateway({
      ...shared,
      REPLICA_ID: 'replica-a',
      SHUTDOWN_TIMEOUT: '8s',
      DRAIN_MARGIN: '2s',
      DRAIN_SPREAD: '300ms',
      DRAIN_RECONNECT_MAX: '1500ms',
    }),
    startGateway({ ...shared, REPLICA_ID: 'replica-b' }),
  ]);
  await waitForCommandGroup(groupId, 2);
});

afterAll(async () => {
  for (const agent of agents) agent.close();
  await Promise.all([a.service.stop(), b.service.stop()]);
  await log.stop();
  redis.disconnect();
});

describe('two gateway replicas', () => {
  it('deliver a command consumed by one replica for an agent held by the other, once', async () => {
    // One agent on B for each consumer's partitions: whichever consumer is A's receives one of these commands.
    const owned = await memberPartitions();
    expect(owned).toHaveLength(2);
    const onB: Credential[] = [];
    for (const mine of owned) {
      for (;;) {
        const credential = await enrolled(b);
        if (mine.includes(commandPartition(credential.agentId, partitions))) {
          onB.push(credential);
          break;
        }
      }
    }
    const held = await Promise.all(onB.map((credential) => connectTo(b, credential)));
    await Promise.all(onB.map((credential) => presentOn(credential.agentId, 'replica-b')));
    const commands = onB.map((credential) => command(credential.agentId, tenantId));
    for (const requested of commands) await sendCommand(log.bus, requested);
    await waitFor(
      () => commands.every((requested, i) => held[i]?.deliveries.get(requested.commandId) === 1),
      {
        timeoutMs: 15_000,
      },
    );
    const forwarded = await fetch(`${a.service.baseUrl}/metrics`).then((response) => response.text());
    expect(forwarded).toMatch(/gateway_commands_forwarded_total(\{[^}]*\})? [1-9]/);
  });

  it('a revoked credential is refused at once by every replica, one that holds it in its cache too', async () => {
    const credential = await enrolled(a);
    // B verified the credential and holds it in process; the revocation goes through A.
    const onB = await connectTo(b, credential);
    const revoked = await fetch(`${a.service.baseUrl}/api/v1/agents/${credential.agentId}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(revoked.status).toBe(200);
    await expect(new FakeAgent(credential, b, 'websocket').open()).rejects.toThrow('401');
    await expect(new FakeAgent(credential, a, 'websocket').open()).rejects.toThrow('401');
    await waitFor(() => onB.ended.length > 0);
    expect(onB.ended[0]).toEqual({ code: 4401, reason: 'credential revoked' });
  });

  it('an agent moving between replicas takes a higher epoch with each connection', async () => {
    const credential = await enrolled(a);
    const agent = new FakeAgent(credential, a, 'websocket');
    agents.push(agent);
    for (const [connection, replica] of [a, b, a].entries()) {
      await agent.connectTo(replica);
      await waitFor(() => log.about(credential.agentId, agentConnected.type).length === connection + 1);
      agent.close();
    }
    const epochs = log
      .about(credential.agentId, agentConnected.type)
      .map((event) => (event.data as AgentConnected).epoch);
    expect(epochs).toEqual([1, 2, 3]);
  });

  it('drain: agents move to the other replica and a command sent during the drain runs exactly once', async () => {
    const credentials = await Promise.all([enrolled(a), enrolled(a)]);
    const moving = await Promise.all(
      credentials.map((credential, i) => connectTo(a, credential, i === 0 ? 'websocket' : 'grpc')),
    );
    for (const agent of moving) agent.reconnectTo = b;
    await Promise.all(credentials.map((credential) => presentOn(credential.agentId, 'replica-a')));

    const stopped = a.service.stop();
    await waitFor(
      () => moving.every((agent) => agent.received.some((message) => message.kind.case === 'drain')),
      {
        timeoutMs: 10_000,
        intervalMs: 20,
      },
    );
    const duringDrain = credentials.map((credential) => command(credential.agentId, tenantId));
    for (const requested of duringDrain) await sendCommand(log.bus, requested);

    await Promise.all(credentials.map((credential) => presentOn(credential.agentId, 'replica-b')));
    // As the session does: a command answered `undeliverable` (its agent was between replicas) is sent
    // again, same id, once the agent is connected again.
    await Promise.all(duringDrain.map((requested, i) => deliverOnce(requested, moving[i]!)));
    expect(await stopped).toBe(0);
    // Nothing arrives twice, even after the drained replica is gone.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(duringDrain.map((requested, i) => moving[i]?.deliveries.get(requested.commandId))).toEqual([1, 1]);
    expect(moving.every((agent) => agent.connections === 2)).toBe(true);
    const reasons = credentials.map(
      (credential) =>
        (log.about(credential.agentId, agentDisconnected.type)[0]?.data as AgentDisconnected | undefined)
          ?.reason,
    );
    expect(reasons).toEqual(['replica-draining', 'replica-draining']);
  }, 150_000);

  it('a crashed replica: its agents are reported disconnected within seconds', async () => {
    const crashing = await startGateway({ ...shared, REPLICA_ID: 'replica-c' });
    const credential = await enrolled(crashing);
    await connectTo(crashing, credential);
    await presentOn(credential.agentId, 'replica-c');
    await crashing.service.kill();
    const killedAt = Date.now();
    const disconnected = await log.waitFor(credential.agentId, agentDisconnected.type, 10_000);
    expect(disconnected.data).toMatchObject({ reason: 'error', replica: 'replica-c', epoch: 1 });
    expect(Date.now() - killedAt).toBeLessThan(6000);
    expect(await redis.hget(`${keyPrefix}:presence`, credential.agentId)).toBeNull();
  });
});
