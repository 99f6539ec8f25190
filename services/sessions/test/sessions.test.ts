import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  agentConnected,
  commandCompleted,
  computerChanged,
  scriptContentHash,
  type ComputerChanged,
} from '@converge/contracts';
import { getAccessToken, startService, uniqueId, waitFor, type ServiceProcess } from '@converge/testing';
import { computerSnapshot, plannedSoftware, SimulatedFleet } from './simulated-fleet.ts';

const topicPrefix = `${uniqueId('sessions-test')}.`;
const env = {
  MONGO_DATABASE_PREFIX: uniqueId('sessions').replace(/-/g, '_'),
  KAFKA_TOPIC_PREFIX: topicPrefix,
  SESSION_TICK_INTERVAL: '200ms',
};
const tenantId = 'tenant-contoso';
let fleet: SimulatedFleet;
let sessions: ServiceProcess;
let adminToken: string;
let computerCount = 0;

async function startSessions(): Promise<ServiceProcess> {
  return startService({
    entry: 'services/sessions/src/main.ts',
    name: 'sessions',
    env: { ...env, DEPLOYMENTS_GRPC_ADDRESS: fleet.grpcAddress },
  });
}

async function api(method: string, path: string, body?: unknown, token = adminToken) {
  const response = await fetch(`${sessions.baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text === '' ? null : JSON.parse(text)) as Record<string, unknown>,
  };
}

interface SessionView {
  status: string;
  stage: string;
  reason: string | null;
  actions: {
    id: string;
    type: string | null;
    status: string;
    result: string | null;
    detected: string | null;
    steps: { step: string; outcome: string | null; scriptHash: string | null }[];
    log: string[];
  }[];
}

async function session(id: string): Promise<SessionView> {
  const { status, body } = await api('GET', `/sessions/${id}`);
  expect(status).toBe(200);
  return body as unknown as SessionView;
}

async function finished(id: string, timeoutMs = 30_000): Promise<SessionView> {
  let view: SessionView | undefined;
  await waitFor(
    async () => {
      view = await session(id);
      return !['created', 'pending', 'running', 'pending-connectivity'].includes(view.status);
    },
    { timeoutMs },
  );
  return view as SessionView;
}

/** A computer known to the sessions service (through identity's snapshot event) with its own agent. */
async function knownComputer(
  overrides: Partial<ComputerChanged> = {},
): Promise<{ computerId: string; agentId: string }> {
  computerCount++;
  const computerId = uniqueId(`computer-${computerCount}`);
  const agentId = uniqueId(`agent-${computerCount}`);
  await fleet.publisher.publish(computerChanged, {
    subject: computerId,
    tenantId,
    data: computerSnapshot(computerId, tenantId, { agentIds: [agentId], ...overrides }),
  });
  return { computerId, agentId };
}

async function runNow(computerId: string, kind = 'full'): Promise<string> {
  let started: { sessionId: string }[] = [];
  // The computer reaches the projection through Kafka: retry until the service knows it.
  await waitFor(async () => {
    const { status, body } = await api('POST', '/sessions', { computerIds: [computerId], kind });
    expect(status).toBe(202);
    started = body.started as { sessionId: string }[];
    return started.length === 1;
  });
  return started[0]?.sessionId ?? '';
}

beforeAll(async () => {
  fleet = new SimulatedFleet({ topicPrefix });
  await fleet.start();
  [adminToken] = await Promise.all([getAccessToken('tenant-admin')]);
  sessions = await startSessions();
});

afterAll(async () => {
  await sessions.stop();
  await fleet.stop();
});

describe('a maintenance session', () => {
  it('detects, installs the prerequisite first, verifies, passes, and runs every script once', async () => {
    const { computerId, agentId } = await knownComputer();
    fleet.plans.set(computerId, [
      plannedSoftware('pm'),
      plannedSoftware('reader', { version: '2.0', prerequisites: ['pm'] }),
    ]);
    const sessionId = await runNow(computerId);
    const view = await finished(sessionId);
    expect(view.status).toBe('passed');
    expect(view.actions.map((action) => [action.id, action.type, action.result])).toEqual([
      ['pm', 'install', 'success'],
      ['reader', 'install', 'success'],
    ]);
    expect(view.actions[1]?.log.join('\n')).toContain('install reader');
    const ran = fleet.runs
      .filter((id) => id.startsWith(sessionId))
      .map((id) => id.slice(sessionId.length + 1));
    expect(ran).toEqual([
      'pm:detect',
      'reader:detect',
      'pm:install',
      'pm:verify',
      'reader:install',
      'reader:verify',
    ]);
    // Each step names the version of the script it ran: the hash of the body the agent was sent.
    const sent = new Map(
      fleet.received
        .filter((command) => command.sessionId === sessionId)
        .map((command) => [fleet.refOf(command), scriptContentHash(command.body)]),
    );
    const steps = view.actions.flatMap((action) =>
      action.steps.map((step) => [`${action.id}:${step.step}`, step.outcome, step.scriptHash]),
    );
    expect(steps).toEqual(
      [...ran].sort().map((step) => [step, 'completed', sent.get(`${sessionId}:${step}`)]),
    );
    expect([...sent.values()].every((hash) => /^sha256:[0-9a-f]{64}$/.test(hash))).toBe(true);
    expect(fleet.computer(agentId).installed.get('reader')).toBe('2.0');
    const list = await api('GET', `/sessions?computerId=${computerId}&limit=1`);
    expect(list.body.items).toEqual([
      expect.objectContaining({ id: sessionId, status: 'passed', kind: 'full' }),
    ]);
  });

  it('waits for an offline agent and resumes when it connects, sending each command once', async () => {
    const { computerId, agentId } = await knownComputer();
    fleet.plans.set(computerId, [plannedSoftware('editor')]);
    fleet.computer(agentId).online = false;
    const sessionId = await runNow(computerId);
    await waitFor(async () => (await session(sessionId)).status === 'pending-connectivity', {
      timeoutMs: 20_000,
    });
    fleet.computer(agentId).online = true;
    await fleet.publisher.publish(agentConnected, {
      subject: agentId,
      tenantId,
      data: {
        agentId,
        tenantId,
        epoch: 2,
        transport: 'websocket',
        agentVersion: '1.0.0',
        replica: 'r1',
        connectedAt: new Date().toISOString(),
      },
    });
    const view = await finished(sessionId);
    expect(view.status).toBe('passed');
    expect(fleet.runs.filter((id) => id.startsWith(sessionId))).toHaveLength(3);
  });

  it('fails with the reason when deployments cannot plan it, and refuses a bad request with nothing started', async () => {
    const { computerId } = await knownComputer();
    fleet.plans.set(computerId, [plannedSoftware('a', { prerequisites: ['b'] }), plannedSoftware('b')]);
    const sessionId = await runNow(computerId);
    const view = await finished(sessionId);
    expect(view).toMatchObject({ status: 'failed' });
    expect(view.reason).toMatch(/needs b, which is not earlier/);
    const bad = await api('POST', '/sessions', { computerIds: [computerId], tenantId, kind: 'full' });
    expect(bad.status).toBe(400);
    const single = await api('POST', '/sessions', { computerIds: [computerId], kind: 'single-item' });
    expect(single.status).toBe(400);
    const other = await api('POST', '/sessions', { tenantId: 'tenant-fabrikam', kind: 'full' });
    expect(other.status).toBe(403);
  });

  it('is cancelled on request: the running script is told to stop, and a late result changes nothing', async () => {
    const { computerId, agentId } = await knownComputer();
    fleet.plans.set(computerId, [plannedSoftware('slow')]);
    fleet.computer(agentId).hangSteps.add('detect');
    const sessionId = await runNow(computerId);
    await waitFor(() =>
      fleet.received.some((command) => fleet.refOf(command) === `${sessionId}:slow:detect`),
    );
    const cancelled = await api('POST', `/sessions/${sessionId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    await waitFor(() => fleet.cancelled.includes(`${sessionId}:slow:detect`));
    const again = await api('POST', `/sessions/${sessionId}/cancel`);
    expect(again.status).toBe(409);
    const commandId = fleet.commandIds.issue(agentId, sessionId, `${sessionId}:slow:detect`);
    await fleet.publisher.publish(commandCompleted, {
      subject: sessionId,
      data: {
        commandId,
        agentId,
        tenantId,
        sessionId,
        outcome: 'completed',
        exitCode: 0,
        lastLine: '',
        durationMs: 5,
        truncated: false,
        completedAt: new Date().toISOString(),
      },
    });
    await waitFor(async () =>
      (await session(sessionId)).actions[0]?.log.some((line) => line.startsWith('late result ignored')),
    );
    expect(await session(sessionId)).toMatchObject({
      status: 'cancelled',
      actions: [{ result: 'cancelled' }],
    });
  });

  it('starts one onboarding session when identity reports a computer needing onboarding, even if told twice', async () => {
    const computerId = uniqueId('computer-new');
    const agentId = uniqueId('agent-new');
    fleet.plans.set(computerId, [plannedSoftware('baseline')]);
    const event = computerSnapshot(computerId, tenantId, {
      agentIds: [agentId],
      onboardingStatus: 'needs-onboarding',
    });
    await fleet.publisher.publish(computerChanged, { subject: computerId, tenantId, data: event });
    await fleet.publisher.publish(computerChanged, { subject: computerId, tenantId, data: event });
    let items: { id: string; kind: string; trigger: string }[] = [];
    await waitFor(async () => {
      items = (await api('GET', `/sessions?computerId=${computerId}`)).body.items as typeof items;
      return items.length > 0;
    });
    expect(items).toEqual([expect.objectContaining({ kind: 'onboarding', trigger: 'onboarding' })]);
    expect((await finished(items[0]?.id ?? '')).status).toBe('passed');
    expect((await api('GET', `/sessions?computerId=${computerId}`)).body.items).toHaveLength(1);
  });

  it('streams a session live: the snapshot, then actions and log lines, until it is final', async () => {
    const { computerId, agentId } = await knownComputer();
    fleet.plans.set(computerId, [plannedSoftware('viewer')]);
    fleet.computer(agentId).hangSteps.add('detect');
    const sessionId = await runNow(computerId);
    const response = await fetch(`${sessions.baseUrl}/api/v1/sessions/${sessionId}/live`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reading = response.text();
    await api('POST', `/sessions/${sessionId}/cancel`);
    const stream = await reading;
    expect(stream).toMatch(/^event: session\n/);
    expect(stream).toContain('event: status');
    expect(stream).toContain('"status":"cancelled"');
  });

  it('survives a SIGKILL of the sessions process mid-session without running any script twice', async () => {
    const { computerId } = await knownComputer();
    fleet.plans.set(computerId, [plannedSoftware('one'), plannedSoftware('two'), plannedSoftware('three')]);
    const sessionId = await runNow(computerId);
    await waitFor(() => fleet.runs.some((id) => id === `${sessionId}:one:install`), { intervalMs: 5 });
    await sessions.kill();
    sessions = await startSessions();
    // FerretDB (SQLite) holds writes for a while after a client dies mid-write: allow for it.
    const view = await finished(sessionId, 90_000);
    expect(view.status).toBe('passed');
    const ran = fleet.runs.filter((id) => id.startsWith(sessionId));
    expect(new Set(ran).size).toBe(ran.length);
    expect(ran).toHaveLength(9);
  }, 150_000);
});
