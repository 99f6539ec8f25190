import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  agentCommandCancelRequested,
  commandCompleted,
  commandOutputChunk,
  agentConnected,
  agentFactsReported,
  type CommandCompleted,
  type CommandOutputChunk,
} from '@converge/contracts';
import { getAccessToken, uniqueId, waitFor } from '@converge/testing';
import {
  command,
  createInstallToken,
  EventLog,
  sendCommand,
  startGateway,
  type Gateway,
} from './gateway-harness.ts';

/**
 * The real agent process (agent/) against a real gateway process: enrollment, both transports, facts on
 * Kafka, a script whose output streams back, a timeout that kills the script's children, and a cancel.
 */
const agentMain = 'agent/src/main.ts';
const tenantId = 'tenant-contoso';

let gateway: Gateway;
let events: EventLog;
let stateDir: string;
let factsFile: string;
let agentId: string;
const agents: ChildProcess[] = [];

function runAgent(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [agentMain, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  agents.push(child);
  return child;
}

async function stopAgent(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** The command's result; other test files' gateways share the topic and answer `undeliverable` for it. */
async function resultOf(commandId: string, timeoutMs = 20_000): Promise<CommandCompleted> {
  const event = await waitFor(
    () =>
      events
        .resultsOf(commandId, commandCompleted.type)
        .map((received) => received.data as CommandCompleted)
        .find((result) => result.outcome !== 'undeliverable'),
    { timeoutMs, intervalMs: 50 },
  );
  return event as CommandCompleted;
}

function outputOf(commandId: string): string {
  return events
    .resultsOf(commandId, commandOutputChunk.type)
    .map((received) => received.data as CommandOutputChunk)
    .sort((a, b) => a.seq - b.seq)
    .map((chunk) => chunk.data)
    .join('');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  events = await EventLog.start();
  gateway = await startGateway({
    MONGO_DATABASE_PREFIX: uniqueId('gw_agent').replace(/-/g, '_'),
    COMMANDS_GROUP_ID: uniqueId('gateway-commands'),
    REDIS_KEY_PREFIX: uniqueId('gateway'),
  });
  const dir = mkdtempSync(join(tmpdir(), 'converge-real-agent-'));
  stateDir = join(dir, 'state');
  factsFile = join(dir, 'facts.json');
  writeFileSync(factsFile, JSON.stringify({ hardwareUuid: crypto.randomUUID(), hostname: 'E2E-AGENT' }));

  const { token } = await createInstallToken(gateway, await getAccessToken('msp-admin'), { tenantId });
  const enroll = runAgent([
    'enroll',
    '--server',
    `http://127.0.0.1:${String(gateway.agentPort)}`,
    '--grpc',
    `127.0.0.1:${String(gateway.agentGrpcPort)}`,
    '--token',
    token,
    '--state-dir',
    stateDir,
    '--facts',
    factsFile,
  ]);
  const [code] = (await once(enroll, 'exit')) as [number | null];
  expect(code).toBe(0);
  agentId = (JSON.parse(readFileSync(join(stateDir, 'credential.json'), 'utf8')) as { agentId: string })
    .agentId;
});

afterAll(async () => {
  await Promise.all(agents.map(stopAgent));
  await gateway.service.stop();
  await events.stop();
});

describe('a real agent', () => {
  it('connects over WebSocket, reports its facts, and runs commands to completion, timeout and cancel', async () => {
    const agent = runAgent(['run', '--state-dir', stateDir, '--facts', factsFile]);

    const connected = await events.waitFor(agentId, agentConnected.type);
    expect(connected.data).toMatchObject({ agentId, tenantId, transport: 'websocket' });
    const facts = await events.waitFor(agentId, agentFactsReported.type);
    expect(facts.data).toMatchObject({ agentId, tenantId, provider: 'converge', hostname: 'E2E-AGENT' });

    const streamed = command(agentId, tenantId, {
      body: 'echo first; sleep 0.3; echo "$CONVERGE_PARAM_NAME"',
    });
    await sendCommand(events.bus, { ...streamed, parameters: { name: 'second' } });
    const completed = await resultOf(streamed.commandId);
    expect(completed).toMatchObject({ outcome: 'completed', exitCode: 0, lastLine: 'second' });
    await waitFor(() => outputOf(streamed.commandId) === 'first\nsecond\n', { timeoutMs: 5_000 });

    const pidFile = join(mkdtempSync(join(tmpdir(), 'converge-pid-')), 'child.pid');
    const timedOut = command(agentId, tenantId, {
      body: `sleep 300 & echo $! > ${pidFile}; wait`,
      timeoutSeconds: 1,
    });
    await sendCommand(events.bus, timedOut);
    expect(await resultOf(timedOut.commandId)).toMatchObject({ outcome: 'timed-out' });
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    await waitFor(() => !isAlive(grandchild), { timeoutMs: 5_000 });

    const cancelled = command(agentId, tenantId, { body: 'echo started; sleep 300' });
    await sendCommand(events.bus, cancelled);
    await waitFor(() => outputOf(cancelled.commandId).includes('started'), { timeoutMs: 15_000 });
    await events.bus.publish(agentCommandCancelRequested, {
      subject: agentId,
      tenantId,
      data: {
        commandId: cancelled.commandId,
        agentId,
        tenantId,
        sessionId: cancelled.sessionId,
        requestedAt: new Date().toISOString(),
      },
    });
    expect(await resultOf(cancelled.commandId)).toMatchObject({ outcome: 'cancelled' });

    await stopAgent(agent);
  });

  it('connects over gRPC with the same credential and runs a command', async () => {
    const before = events.about(agentId, agentConnected.type).length;
    runAgent(['run', '--transport', 'grpc', '--state-dir', stateDir, '--facts', factsFile]);
    await waitFor(() => events.about(agentId, agentConnected.type).length > before, { timeoutMs: 15_000 });
    expect(events.about(agentId, agentConnected.type).at(-1)?.data).toMatchObject({ transport: 'grpc' });

    const overGrpc = command(agentId, tenantId, { body: 'echo over grpc' });
    await sendCommand(events.bus, overGrpc);
    expect(await resultOf(overGrpc.commandId)).toMatchObject({ outcome: 'completed', lastLine: 'over grpc' });
  });
});
