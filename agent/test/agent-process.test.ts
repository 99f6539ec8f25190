import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandOutcome, ExecutionContext, OsFamily, ScriptLanguage } from '@converge/proto';
import { waitFor } from '@converge/testing';
import { agentId, credentialSecret, FakeGateway, installToken, type AgentSession } from './fake-gateway.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

interface AgentProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

const running: AgentProcess[] = [];

function startAgent(args: string[]): AgentProcess {
  const child = spawn(process.execPath, [main, ...args], {
    env: { ...process.env, CONVERGE_AGENT_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  const agent = { child, output: () => output, exited };
  running.push(agent);
  return agent;
}

function newStateDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'converge-agent-test-')), 'state');
}

function writeFacts(facts: object): string {
  const path = join(mkdtempSync(join(tmpdir(), 'converge-agent-facts-')), 'facts.json');
  writeFileSync(path, JSON.stringify(facts));
  return path;
}

const gateway = new FakeGateway();

async function enrolledStateDir(): Promise<string> {
  const stateDir = newStateDir();
  const agent = startAgent([
    'enroll',
    '--server',
    gateway.url,
    '--token',
    installToken,
    '--grpc',
    `127.0.0.1:${gateway.grpcPort}`,
    '--state-dir',
    stateDir,
  ]);
  expect(await agent.exited).toBe(0);
  return stateDir;
}

function welcome(session: AgentSession, heartbeatIntervalMs = 200): void {
  session.send({ kind: { case: 'welcome', value: { agentId, heartbeatIntervalMs } } });
}

function commandFrame(
  id: string,
  body: string,
  extra: { parameters?: Record<string, string>; timeoutSeconds?: number } = {},
) {
  return {
    kind: {
      case: 'command' as const,
      value: {
        id,
        sessionId: `session-${id}`,
        actionId: 'action-1',
        language: ScriptLanguage.BASH,
        executionContext: ExecutionContext.SYSTEM,
        body,
        timeoutSeconds: extra.timeoutSeconds ?? 30,
        parameters: extra.parameters ?? {},
      },
    },
  };
}

function outputOf(session: AgentSession, commandId: string): string {
  return session.messages
    .flatMap((m) =>
      m.kind.case === 'outputChunk' && m.kind.value.commandId === commandId ? [m.kind.value] : [],
    )
    .sort((a, b) => a.seq - b.seq)
    .map((chunk) => Buffer.from(chunk.data).toString())
    .join('');
}

function resultsOf(session: AgentSession, commandId: string) {
  return session.messages.flatMap((m) =>
    m.kind.case === 'commandResult' && m.kind.value.commandId === commandId ? [m.kind.value] : [],
  );
}

beforeAll(async () => {
  await gateway.start();
});

afterEach(async () => {
  for (const agent of running.splice(0)) {
    if (agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
  }
});

afterAll(async () => {
  await gateway.stop();
});

describe('converge-agent enroll', () => {
  it('exchanges the install token for a credential kept in a file only the agent user can read', async () => {
    const stateDir = newStateDir();
    const facts = writeFacts({
      hostname: 'lab-enroll',
      hardwareUuid: '11111111-2222-3333-4444-555555555555',
    });
    const agent = startAgent([
      'enroll',
      '--server',
      gateway.url,
      '--token',
      installToken,
      '--state-dir',
      stateDir,
      '--facts',
      facts,
    ]);
    expect(await agent.exited).toBe(0);

    const path = join(stateDir, 'credential.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      server: gateway.url,
      grpcAddress: null,
      agentId,
      credentialSecret,
    });
    expect(gateway.enrollments.at(-1)?.facts).toMatchObject({
      hostname: 'lab-enroll',
      osFamily: OsFamily.LINUX,
    });
    expect(agent.output()).toContain('"msg":"enrolled"');
    expect(agent.output()).not.toContain(credentialSecret);
    expect(agent.output()).not.toContain('install-secret');

    const again = startAgent([
      'enroll',
      '--server',
      gateway.url,
      '--token',
      installToken,
      '--state-dir',
      stateDir,
    ]);
    expect(await again.exited).toBe(2);
    expect(again.output()).toMatch(/already exists; pass --force/);
  });

  it('explains a refused install token and writes nothing', async () => {
    const stateDir = newStateDir();
    const agent = startAgent([
      'enroll',
      '--server',
      gateway.url,
      '--token',
      'tok1.wrong',
      '--state-dir',
      stateDir,
    ]);
    expect(await agent.exited).toBe(1);
    expect(agent.output()).toMatch(/install token was refused.*install token not valid/);
    expect(() => statSync(join(stateDir, 'credential.json'))).toThrow();
  });
});

describe('converge-agent run over WebSocket', () => {
  it('says hello with its facts, heartbeats, runs commands once, obeys drain, and stops cleanly on SIGTERM', async () => {
    const stateDir = await enrolledStateDir();
    const facts = writeFacts({
      hardwareUuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      loggedOnUpns: ['alice@example.com'],
    });
    const first = gateway.sessions.length;
    const agent = startAgent(['run', '--state-dir', stateDir, '--facts', facts]);

    const session = await gateway.nextSession(first);
    expect(session.headers.authorization).toBe(`Bearer ${agentId}.${credentialSecret}`);
    const hello = await session.next('hello');
    expect(hello.kind.case === 'hello' && hello.kind.value.facts).toMatchObject({
      hardwareUuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      loggedOnUpns: ['alice@example.com'],
      osFamily: OsFamily.LINUX,
      osInstallId: readFileSync('/etc/machine-id', 'utf8').trim(),
      agentVersion: '0.1.0',
    });

    welcome(session);
    await waitFor(() => session.messages.filter((m) => m.kind.case === 'heartbeat').length >= 2, {
      timeoutMs: 5000,
    });

    const log = join(tmpdir(), `converge-agent-runs-${process.pid}-${Date.now()}`);
    const body = `echo ran >> ${log}; echo one; echo two >&2; echo "$CONVERGE_PARAM_VERSION"`;
    session.send(commandFrame('c1', body, { parameters: { version: '1.2.3' } }));
    const result = await session.next('commandResult');
    expect(result.kind.value).toMatchObject({
      commandId: 'c1',
      sessionId: 'session-c1',
      outcome: CommandOutcome.COMPLETED,
      exitCode: 0,
      finalOutputLine: '1.2.3',
      outputTruncated: false,
    });
    expect(outputOf(session, 'c1').split('\n').sort()).toEqual(['', '1.2.3', 'one', 'two']);
    const chunks = session.messages.filter((m) => m.kind.case === 'outputChunk');
    expect(
      chunks.every((m) => m.kind.case === 'outputChunk' && m.kind.value.sessionId === 'session-c1'),
    ).toBe(true);

    // Delivered again (a gateway retry): answered from memory, not run again.
    session.send(commandFrame('c1', body, { parameters: { version: '1.2.3' } }));
    await waitFor(() => resultsOf(session, 'c1').length === 2, { timeoutMs: 5000 });
    expect(resultsOf(session, 'c1')[1]).toEqual(resultsOf(session, 'c1')[0]);
    expect(session.messages.filter((m) => m.kind.case === 'outputChunk')).toHaveLength(chunks.length);
    expect(readFileSync(log, 'utf8')).toBe('ran\n');

    session.send({
      kind: { case: 'drain', value: { reconnectAfterMs: 100, reason: 'replica shutting down' } },
    });
    await waitFor(() => session.closed, { timeoutMs: 5000 });
    const second = await gateway.nextSession(first + 1);
    await second.next('hello');
    welcome(second);

    second.send(commandFrame('long', 'echo started; sleep 30'));
    await second.next('outputChunk');
    agent.child.kill('SIGTERM');
    const cancelled = await second.next('commandResult');
    expect(cancelled.kind.value).toMatchObject({
      commandId: 'long',
      outcome: CommandOutcome.CANCELLED,
      message: 'the agent is stopping',
    });
    expect(await agent.exited).toBe(0);
    expect(agent.output()).not.toContain(credentialSecret);
  });

  it('sends the result it could not send first after reconnecting', async () => {
    const stateDir = await enrolledStateDir();
    const first = gateway.sessions.length;
    const agent = startAgent(['run', '--state-dir', stateDir]);
    const session = await gateway.nextSession(first);
    await session.next('hello');
    welcome(session, 10_000);
    session.send(commandFrame('late', 'sleep 0.5; echo late'));
    await waitFor(() => agent.output().includes('"msg":"command started"'), { timeoutMs: 5000 });
    session.kill();

    const second = await gateway.nextSession(first + 1);
    await second.next('hello');
    // The script ends while the agent has no welcomed connection: its output and result must wait for one.
    await waitFor(() => agent.output().includes('"msg":"command finished"'), { timeoutMs: 5000 });
    expect(resultsOf(session, 'late')).toEqual([]);
    expect(resultsOf(second, 'late')).toEqual([]);
    welcome(second, 10_000);
    const result = await second.next('commandResult');
    expect(result.kind.value).toMatchObject({
      commandId: 'late',
      finalOutputLine: 'late',
      sessionId: 'session-late',
    });
    expect(second.messages.map((m) => m.kind.case)).toEqual(['hello', 'outputChunk', 'commandResult']);
  });

  it('waits at least as long as a refusing gateway asks before trying again', async () => {
    const stateDir = await enrolledStateDir();
    const first = gateway.sessions.length;
    gateway.refuseUpgrades = { status: 503, count: 1 };
    const agent = startAgent(['run', '--state-dir', stateDir]);
    const session = await gateway.nextSession(first);
    const connectedAt = Date.now();
    expect(gateway.refusedAt).toHaveLength(1);
    expect(connectedAt - gateway.refusedAt[0]!).toBeGreaterThanOrEqual(950);
    await session.next('hello');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });
});

describe('converge-agent run over gRPC', () => {
  it('connects with its credential in the metadata and runs a command', async () => {
    const stateDir = await enrolledStateDir();
    const first = gateway.sessions.length;
    const agent = startAgent(['run', '--transport', 'grpc', '--state-dir', stateDir]);
    const session = await gateway.nextSession(first);
    expect(session.headers.authorization).toBe(`Bearer ${agentId}.${credentialSecret}`);
    await session.next('hello');
    welcome(session);
    await session.next('heartbeat');
    session.send(commandFrame('g1', 'echo over-grpc; exit 4'));
    const result = await session.next('commandResult');
    expect(result.kind.value).toMatchObject({ commandId: 'g1', exitCode: 4, finalOutputLine: 'over-grpc' });
    expect(outputOf(session, 'g1')).toBe('over-grpc\n');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });
});
