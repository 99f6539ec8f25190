import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import {
  agentConnected,
  agentDisconnected,
  agentFactsReported,
  commandCompleted,
  commandOutputChunk,
  type AgentConnected,
  type AgentFactsReported,
  type CommandCompleted,
} from '@converge/contracts';
import { CommandOutcome, OutputStream } from '@converge/proto';
import { createCommandSecrets } from '@converge/store';
import { getAccessToken, uniqueId, waitFor } from '@converge/testing';
import { FakeAgent, type Credential } from './fake-agent.ts';
import {
  command,
  commandSecretsKey,
  createInstallToken,
  enrollOverGrpc,
  enrollOverHttp,
  EventLog,
  sendCommand,
  startGateway,
  storeOperations,
  waitForCommandGroup,
  type Gateway,
} from './gateway-harness.ts';

const tenantId = 'tenant-contoso';
const groupId = uniqueId('gateway-commands');
const databasePrefix = uniqueId('gw').replace(/-/g, '_');
let gateway: Gateway;
let log: EventLog;
let adminToken: string;
const agents: FakeAgent[] = [];

async function enrolled(via: 'http' | 'grpc' = 'http'): Promise<Credential> {
  const { token } = await createInstallToken(gateway, adminToken, { tenantId });
  const credential =
    via === 'http' ? await enrollOverHttp(gateway, token) : await enrollOverGrpc(gateway, token);
  if (typeof credential === 'number') throw new Error(`enrollment refused: ${String(credential)}`);
  return credential;
}

async function connected(
  transport: 'websocket' | 'grpc',
): Promise<{ agent: FakeAgent; credential: Credential }> {
  const credential = await enrolled();
  const agent = new FakeAgent(credential, gateway, transport);
  agents.push(agent);
  await agent.connect();
  return { agent, credential };
}

beforeAll(async () => {
  [log, adminToken] = await Promise.all([EventLog.start(), getAccessToken('tenant-admin')]);
  gateway = await startGateway({
    MONGO_DATABASE_PREFIX: databasePrefix,
    COMMANDS_GROUP_ID: groupId,
    REDIS_KEY_PREFIX: uniqueId('gw'),
    REPLICA_ID: uniqueId('replica'),
  });
  await waitForCommandGroup(groupId, 1);
});

afterAll(async () => {
  for (const agent of agents) agent.close();
  await gateway.service.stop();
  await log.stop();
});

describe('enrollment', () => {
  it('exchanges an install token for an agent credential over HTTP and over gRPC', async () => {
    const { token } = await createInstallToken(gateway, adminToken, { tenantId, maxUses: 2 });
    const overHttp = await enrollOverHttp(gateway, token);
    const overGrpc = await enrollOverGrpc(gateway, token);
    expect(overHttp).toMatchObject({ agentId: expect.any(String), credentialSecret: expect.any(String) });
    expect(overGrpc).toMatchObject({ agentId: expect.any(String), credentialSecret: expect.any(String) });
    // The third use is one too many.
    expect(await enrollOverHttp(gateway, token)).toBe(401);
    expect(await enrollOverGrpc(gateway, token)).toBe(status.UNAUTHENTICATED);
  });

  it('refuses revoked, expired, forged and unknown install tokens', async () => {
    const revoked = await createInstallToken(gateway, adminToken, { tenantId });
    const deleted = await fetch(`${gateway.service.baseUrl}/api/v1/install-tokens/${revoked.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(deleted.status).toBe(204);
    expect(await enrollOverHttp(gateway, revoked.token)).toBe(401);

    const expiring = await createInstallToken(gateway, adminToken, {
      tenantId,
      expiresAt: new Date(Date.now() + 300).toISOString(),
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await enrollOverGrpc(gateway, expiring.token)).toBe(status.UNAUTHENTICATED);

    const valid = await createInstallToken(gateway, adminToken, { tenantId });
    expect(await enrollOverHttp(gateway, `${valid.id}.${'x'.repeat(43)}`)).toBe(401);
    expect(await enrollOverHttp(gateway, 'not-a-token')).toBe(401);
  });

  it('keeps a tenant admin to install tokens of its own tenant', async () => {
    const response = await fetch(`${gateway.service.baseUrl}/api/v1/install-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: 'tenant-fabrikam' }),
    });
    expect(response.status).toBe(403);
  });
});

describe('connecting', () => {
  it.each(['websocket', 'grpc'] as const)(
    'over %s, an agent is welcomed and reported connected with its facts, under its credential tenant',
    async (transport) => {
      const { agent, credential } = await connected(transport);
      const welcome = agent.received[0];
      expect(welcome?.kind.case === 'welcome' && welcome.kind.value).toMatchObject({
        agentId: credential.agentId,
        heartbeatIntervalMs: 2000,
      });
      const connectedEvent = await log.waitFor(credential.agentId, agentConnected.type);
      expect(connectedEvent.data).toMatchObject({
        agentId: credential.agentId,
        tenantId,
        transport,
        epoch: 1,
      });
      const facts = (await log.waitFor(credential.agentId, agentFactsReported.type))
        .data as AgentFactsReported;
      expect(facts).toMatchObject({ tenantId, provider: 'converge', version: 2 ** 20 + 1, os: 'linux' });
    },
  );

  it('keeps a heartbeating agent and closes a silent one for idleness', async () => {
    const { agent, credential } = await connected('websocket');
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(agent.ended).toEqual([]);
    agent.heartbeating = false;
    await waitFor(() => agent.ended.length > 0, { timeoutMs: 15_000 });
    expect(agent.ended[0]).toEqual({ code: 4408, reason: 'idle timeout' });
    const disconnected = await log.waitFor(credential.agentId, agentDisconnected.type);
    expect(disconnected.data).toMatchObject({ reason: 'heartbeat-timeout', epoch: 1 });
  });

  it.each(['websocket', 'grpc'] as const)(
    'refuses a forged or revoked credential over %s and publishes nothing',
    async (transport) => {
      const credential = await enrolled();
      const forged = new FakeAgent({ ...credential, credentialSecret: 'A'.repeat(43) }, gateway, transport);
      if (transport === 'websocket') {
        await expect(forged.open()).rejects.toThrow('401');
      } else {
        await forged.open();
        await waitFor(() => forged.ended.length > 0);
        expect(forged.ended[0]?.code).toBe(status.UNAUTHENTICATED);
      }

      const revoked = await fetch(`${gateway.service.baseUrl}/api/v1/agents/${credential.agentId}/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(revoked.status).toBe(200);
      const refused = new FakeAgent(credential, gateway, transport);
      if (transport === 'websocket') {
        await expect(refused.open()).rejects.toThrow('401');
      } else {
        await refused.open();
        await waitFor(() => refused.ended.length > 0);
        expect(refused.ended[0]?.code).toBe(status.UNAUTHENTICATED);
      }
      // A later agent's events arriving proves the log is current; none is about the refused agent.
      const { credential: later } = await connected(transport);
      await log.waitFor(later.agentId, agentConnected.type);
      expect(log.about(credential.agentId)).toEqual([]);
    },
  );

  it('gives each connection of an agent a higher epoch and sends its facts to Kafka, touching no store', async () => {
    const credential = await enrolled();
    const before = await storeOperations(gateway, databasePrefix);
    const agent = new FakeAgent(credential, gateway, 'websocket');
    agents.push(agent);
    for (let connection = 1; connection <= 3; connection++) {
      await agent.connect();
      await waitFor(() => log.about(credential.agentId, agentConnected.type).length === connection);
      agent.close();
    }
    const epochs = log
      .about(credential.agentId, agentConnected.type)
      .map((event) => (event.data as AgentConnected).epoch);
    expect(epochs).toEqual([1, 2, 3]);
    await waitFor(() => log.about(credential.agentId, agentFactsReported.type).length === 3);
    const versions = log
      .about(credential.agentId, agentFactsReported.type)
      .map((event) => (event.data as AgentFactsReported).version);
    expect(versions).toEqual([1, 2, 3].map((epoch) => epoch * 2 ** 20 + 1));
    // The credential came from the cache its enrollment filled, the epochs from Redis, the facts went to Kafka.
    expect(await storeOperations(gateway, databasePrefix)).toBe(before);
  });

  it('closes a connected agent whose credential is revoked with 4401', async () => {
    const { agent, credential } = await connected('websocket');
    await waitFor(async () => {
      const response = await fetch(`${gateway.service.baseUrl}/api/v1/agents/${credential.agentId}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      return ((await response.json()) as { online: boolean }).online;
    });
    await fetch(`${gateway.service.baseUrl}/api/v1/agents/${credential.agentId}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    await waitFor(() => agent.ended.length > 0);
    expect(agent.ended[0]).toEqual({ code: 4401, reason: 'credential revoked' });
  });

  it('closes only the connection that sends a malformed, text or oversized frame, with the documented reason', async () => {
    const { agent: bystander } = await connected('websocket');
    const { agent: garbled } = await connected('websocket');
    const { agent: texting } = await connected('websocket');
    const { agent: oversized } = await connected('websocket');
    const { agent: oversizedGrpc } = await connected('grpc');
    garbled.sendBytes(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    texting.sendBytes('hello');
    oversized.sendBytes(new Uint8Array(1024 * 1024 + 1));
    oversizedGrpc.send({ kind: { case: 'heartbeat', value: {} } });
    oversizedGrpc.send({
      kind: { case: 'hello', value: { facts: { hostname: 'x', agentVersion: 'v'.repeat(1024 * 1024 + 1) } } },
    });
    await waitFor(() =>
      [garbled, texting, oversized, oversizedGrpc].every((agent) => agent.ended.length > 0),
    );
    expect(garbled.ended[0]).toEqual({ code: 1007, reason: 'malformed frame' });
    expect(texting.ended[0]).toEqual({ code: 1007, reason: 'malformed frame' });
    // ws answers an oversized frame itself, with the code and no reason text.
    expect(oversized.ended[0]?.code).toBe(1009);
    expect(oversizedGrpc.ended[0]?.code).toBe(status.RESOURCE_EXHAUSTED);

    bystander.send({ kind: { case: 'heartbeat', value: {} } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bystander.ended).toEqual([]);
    const { agent: newcomer } = await connected('grpc');
    expect(newcomer.ended).toEqual([]);
  });
});

describe('commands', () => {
  it('sends a command to a local agent and publishes its output and result', async () => {
    const { agent, credential } = await connected('grpc');
    const requested = command(credential.agentId, tenantId, { parameters: { retries: 3 } });
    await sendCommand(log.bus, requested);
    await waitFor(() => agent.deliveries.get(requested.commandId) === 1, { timeoutMs: 15_000 });
    const frame = agent.received.find((message) => message.kind.case === 'command');
    expect(frame?.kind.case === 'command' && frame.kind.value).toMatchObject({
      id: requested.commandId,
      sessionId: requested.sessionId,
      body: 'echo hello',
      parameters: { retries: '3' },
    });

    const { commandId, sessionId } = requested;
    for (const [seq, text] of ['hel', 'lo\n'].entries()) {
      agent.send({
        kind: {
          case: 'outputChunk',
          value: {
            commandId,
            sessionId,
            seq,
            stream: OutputStream.STDOUT,
            data: new TextEncoder().encode(text),
          },
        },
      });
    }
    agent.send({
      kind: {
        case: 'commandResult',
        value: {
          commandId,
          sessionId,
          outcome: CommandOutcome.COMPLETED,
          exitCode: 0,
          finalOutputLine: 'hello',
          durationMs: 12,
        },
      },
    });
    const completed = await waitFor(() =>
      log
        .resultsOf(commandId, commandCompleted.type)
        .find((event) => (event.data as CommandCompleted).outcome === 'completed'),
    );
    expect(completed?.data).toMatchObject({
      agentId: credential.agentId,
      tenantId,
      exitCode: 0,
      lastLine: 'hello',
    });
    const chunks = log
      .resultsOf(commandId, commandOutputChunk.type)
      .map((event) => event.data as { seq: number; data: string });
    expect(chunks.map((chunk) => chunk.data).join('')).toBe('hello\n');
  });

  it("drops an agent's report of a command not issued to it, and publishes the next one it was given", async () => {
    const { agent, credential } = await connected('websocket');
    const other = await enrolled();
    const requested = command(credential.agentId, tenantId);
    await sendCommand(log.bus, requested);
    await waitFor(() => agent.deliveries.get(requested.commandId) === 1, { timeoutMs: 15_000 });
    const report = (commandId: string, sessionId: string) => ({
      kind: {
        case: 'commandResult' as const,
        value: { commandId, sessionId, outcome: CommandOutcome.COMPLETED, exitCode: 0, durationMs: 1 },
      },
    });
    // Another agent's command, one named like it with no tag, and this agent's command claimed for another
    // session: none of them was issued to this agent.
    const foreign = command(other.agentId, tenantId);
    const forged = [
      report(foreign.commandId, foreign.sessionId),
      report(`${requested.sessionId}:item:detect`, requested.sessionId),
      report(requested.commandId, foreign.sessionId),
    ];
    for (const frame of forged) agent.send(frame);
    agent.send(report(requested.commandId, requested.sessionId));
    await log.waitForResult(requested.commandId, commandCompleted.type);
    // Reports are keyed by session, so a forged one published would be on another partition: give it time.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(log.resultsOf(foreign.commandId, commandCompleted.type)).toEqual([]);
    expect(log.resultsOf(`${requested.sessionId}:item:detect`, commandCompleted.type)).toEqual([]);
    expect(log.resultsOf(requested.commandId, commandCompleted.type)).toHaveLength(1);
    expect(agent.ended).toEqual([]);
    const metrics = await fetch(`${gateway.service.baseUrl}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/gateway_reports_foreign_total(\{[^}]*\})? [3-9]/);
  });

  it("opens sealed secret parameters for the agent they were sealed to only; a copy in another agent's command is answered failed-to-start", async () => {
    const [first, second] = await Promise.all([connected('websocket'), connected('grpc')]);
    const secret = `sentinel-${uniqueId('api-key')}`;
    const sessionId = uniqueId('session');
    const binding = { tenantId, agentId: first.credential.agentId, sessionId };
    const sealedParameters = {
      ApiKey: createCommandSecrets(commandSecretsKey).seal(binding, 'ApiKey', secret),
    };

    const requested = command(first.credential.agentId, tenantId, {
      sessionId,
      parameters: { Mode: 'strict' },
      sealedParameters,
    });
    await sendCommand(log.bus, requested);
    await waitFor(() => first.agent.deliveries.get(requested.commandId) === 1, { timeoutMs: 15_000 });
    const frame = first.agent.received.find(
      (message) => message.kind.case === 'command' && message.kind.value.id === requested.commandId,
    );
    expect(frame?.kind.case === 'command' && frame.kind.value.parameters).toEqual({
      Mode: 'strict',
      ApiKey: secret,
    });

    const replayed = command(second.credential.agentId, tenantId, { sessionId, sealedParameters });
    await sendCommand(log.bus, replayed);
    const answer = await log.waitForResult(replayed.commandId, commandCompleted.type);
    expect(answer.data).toMatchObject({
      outcome: 'failed-to-start',
      exitCode: null,
      message: 'a secret parameter of the command does not open for this agent',
    });
    expect(second.agent.deliveries.has(replayed.commandId)).toBe(false);
    expect(JSON.stringify(gateway.service.logs)).not.toContain(secret);
  });

  it('answers a command for an offline agent undeliverable at once', async () => {
    const credential = await enrolled();
    const requested = command(credential.agentId, tenantId);
    const sentAt = Date.now();
    await sendCommand(log.bus, requested);
    const answer = await log.waitForResult(requested.commandId, commandCompleted.type);
    expect(answer.data).toMatchObject({ outcome: 'undeliverable', exitCode: null, durationMs: 0 });
    expect(Date.now() - sentAt).toBeLessThan(5000);
  });

  it('answers a command that waited too long undeliverable instead of sending it to its connected agent', async () => {
    const { agent, credential } = await connected('websocket');
    const requested = command(credential.agentId, tenantId, {
      requestedAt: new Date(Date.now() - 11 * 60_000).toISOString(),
    });
    await sendCommand(log.bus, requested);
    const answer = await log.waitForResult(requested.commandId, commandCompleted.type);
    expect(answer.data).toMatchObject({
      outcome: 'undeliverable',
      message: 'the command waited too long to be delivered',
    });
    expect(agent.deliveries.has(requested.commandId)).toBe(false);
  });

  it('keys output, results and undeliverable answers by the session, which consumes them by session id', async () => {
    const { agent, credential } = await connected('websocket');
    const requested = command(credential.agentId, tenantId);
    await sendCommand(log.bus, requested);
    await waitFor(() => agent.deliveries.get(requested.commandId) === 1, { timeoutMs: 15_000 });
    const { commandId, sessionId } = requested;
    agent.send({
      kind: {
        case: 'outputChunk',
        value: {
          commandId,
          sessionId,
          seq: 0,
          stream: OutputStream.STDOUT,
          data: new TextEncoder().encode('ok\n'),
        },
      },
    });
    agent.send({
      kind: {
        case: 'commandResult',
        value: {
          commandId,
          sessionId,
          outcome: CommandOutcome.COMPLETED,
          exitCode: 0,
          finalOutputLine: 'ok',
        },
      },
    });
    const chunk = await log.waitForResult(commandId, commandOutputChunk.type);
    const result = await log.waitForResult(commandId, commandCompleted.type);
    expect([chunk.subject, result.subject]).toEqual([sessionId, sessionId]);

    const offline = command((await enrolled()).agentId, tenantId);
    await sendCommand(log.bus, offline);
    expect((await log.waitForResult(offline.commandId, commandCompleted.type)).subject).toBe(
      offline.sessionId,
    );
  });
});

describe('the agent list', () => {
  it('shows agents of the caller tenant with their online state, filtered and paged', async () => {
    const { credential } = await connected('websocket');
    const list = async (query: string) => {
      const response = await fetch(`${gateway.service.baseUrl}/api/v1/agents?${query}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        items: { id: string; online: boolean }[];
        nextCursor: string | null;
      };
    };
    await waitFor(
      async () => (await list('online=true&limit=200')).items.some((item) => item.id === credential.agentId),
      { timeoutMs: 20_000 },
    );
    const online = await list('online=true&limit=200');
    expect(online.items.every((item) => item.online)).toBe(true);
    const offline = await list('online=false&limit=200');
    expect(offline.items.every((item) => !item.online)).toBe(true);
    const firstPage = await list('limit=2');
    expect(firstPage.items).toHaveLength(2);
    const secondPage = await list(`limit=2&cursor=${String(firstPage.nextCursor)}`);
    expect(secondPage.items[0]?.id).not.toBe(firstPage.items[0]?.id);
    const badLimit = await fetch(`${gateway.service.baseUrl}/api/v1/agents?limit=0`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(badLimit.status).toBe(400);
  });
});
