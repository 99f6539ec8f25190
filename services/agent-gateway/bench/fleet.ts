// A simulated agent fleet, run by the gateway bench as its own process (`fork`, IPC channel): it holds a slice of
// the credentials file and connects its agents in waves the bench asks for (`connect` up to an index), spread
// over source addresses 127.0.0.2…; each agent says Hello, heartbeats at the interval the Welcome names, and
// answers every Command with a CommandResult at once, reporting when each command arrived. A refused or dropped
// agent reconnects with backoff and full jitter, after at least the `retry-after` a refusal named, as a real
// agent does. Per agent it keeps only its channel: one timer walks all agents for heartbeats, so the fleet's own
// cost stays small next to the server's.
//
//   node bench/fleet.ts --transport websocket|grpc|raw-tcp --target 127.0.0.1:8114 --credentials fleet.json
//                       [--from 0] [--count N] [--source-addresses 16] [--concurrency 500] [--seed 7]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  AgentMessageSchema,
  CommandOutcome,
  DeviceType,
  GatewayMessageSchema,
  OsFamily,
  create,
  fromBinary,
  toBinary,
} from '@converge/proto';
import { seededRandom } from '@converge/testing';
import {
  transports,
  type CredentialsFile,
  type FleetInstruction,
  type FleetReport,
  type Transport,
} from './bench-messages.ts';
import { openChannel, type AgentChannel } from './fleet-channels.ts';
import { wallClockMs } from './latency.ts';

const { values } = parseArgs({
  options: {
    transport: { type: 'string', default: 'websocket' },
    target: { type: 'string' },
    credentials: { type: 'string' },
    from: { type: 'string', default: '0' },
    count: { type: 'string' },
    'source-addresses': { type: 'string', default: '16' },
    // Connection attempts in flight at once: enough to keep the server's accept path busy.
    concurrency: { type: 'string', default: '500' },
    // How long a wave may take before its agents still connecting count as failed.
    'connect-timeout': { type: 'string', default: '120000' },
    seed: { type: 'string', default: '7' },
  },
});

const transport = values.transport as Transport;
if (!transports.includes(transport)) throw new Error(`--transport must be one of ${transports.join(', ')}`);
if (!values.target || !values.credentials)
  throw new Error('--target host:port and --credentials are required');
const [host = '127.0.0.1', portText = ''] = values.target.split(':');
const target = { host, port: Number(portText) };
const file = JSON.parse(readFileSync(values.credentials, 'utf8')) as CredentialsFile;
const from = Number(values.from);
const agents = file.agents.slice(from, values.count === undefined ? undefined : from + Number(values.count));
const count = agents.length;
const sourceAddresses = Math.max(1, Number(values['source-addresses']));
const concurrency = Number(values.concurrency);
const connectTimeoutMs = Number(values['connect-timeout']);
const seed = Number(values.seed);

/** 127.0.0.2 onwards: each source address has its own ~28k ephemeral ports towards one server port. */
function sourceAddressOf(index: number): string {
  const n = (index % sourceAddresses) + 2;
  return `127.0.${n >> 8}.${n & 255}`;
}

/** The same synthetic facts for an agent on every run, built when needed rather than held per agent. */
function helloOf(index: number): Uint8Array {
  const random = seededRandom(seed * 1_000_003 + from + index);
  const hex = (digits: number) =>
    Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');
  return toBinary(
    AgentMessageSchema,
    create(AgentMessageSchema, {
      kind: {
        case: 'hello',
        value: {
          facts: {
            hardwareUuid: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`.toUpperCase(),
            serialNumber: hex(10).toUpperCase(),
            manufacturer: 'Bench Systems',
            model: 'Simulated 1',
            osInstallId: hex(32),
            hostname: `bench-${from + index}`,
            osFamily: OsFamily.LINUX,
            osName: 'Ubuntu 24.04 LTS',
            osVersion: '24.04',
            deviceType: random() < 0.7 ? DeviceType.WORKSTATION : DeviceType.SERVER,
            loggedOnUpns: [],
            agentVersion: 'bench',
          },
        },
      },
    }),
  );
}

const heartbeat = toBinary(
  AgentMessageSchema,
  create(AgentMessageSchema, { kind: { case: 'heartbeat', value: {} } }),
);

const channels: (AgentChannel | undefined)[] = new Array<AgentChannel | undefined>(count);
const welcomed = new Uint8Array(count);
/** Agents told to drain: they reconnect after the delay the Drain named, not after a failure's back-off. */
const drained = new Uint8Array(count);
/** Failed attempts in a row per agent, for the back-off. */
const attempts = new Uint8Array(count);
const waiting: number[] = []; // popped from the end
/** Agents of the slice the waves so far asked for: [0, opened). */
let opened = 0;
let inFlight = 0;
let welcomedCount = 0;
let stopping = false;
let heartbeatIntervalMs = 0;
let receipts: [string, number][] = [];

interface Wave {
  retries: number;
  authFailures: number;
  firstAttemptAt: number;
  lastWelcomedAt: number;
  failures: Record<string, number>;
  reported: boolean;
  deadline: NodeJS.Timeout | undefined;
}
let wave: Wave | undefined;

function report(message: FleetReport): void {
  process.send?.(message);
}

function tally(reason: string): void {
  if (!wave) return;
  // Close reasons carry no per-agent data, so they group well; the status line of a refusal is enough.
  const key = reason.slice(0, 80);
  wave.failures[key] = (wave.failures[key] ?? 0) + 1;
  if (/\b401\b|grpc-status 16\b/.test(reason)) wave.authFailures++;
}

function reportWave(): void {
  if (!wave || wave.reported) return;
  wave.reported = true;
  clearTimeout(wave.deadline);
  report({
    type: 'connected',
    welcomed: welcomedCount,
    failed: opened - welcomedCount,
    retries: wave.retries,
    authFailures: wave.authFailures,
    firstAttemptAt: wave.firstAttemptAt,
    lastWelcomedAt: wave.lastWelcomedAt,
    failures: wave.failures,
  });
}

function connectUpTo(upTo: number): void {
  wave = {
    retries: 0,
    authFailures: 0,
    firstAttemptAt: 0,
    lastWelcomedAt: 0,
    failures: {},
    reported: false,
    // Past the deadline the agents still connecting count as failed; their attempts go on.
    deadline: setTimeout(reportWave, connectTimeoutMs),
  };
  const target = Math.min(upTo, count);
  for (let index = target - 1; index >= opened; index--) waiting.push(index);
  opened = Math.max(opened, target);
  pump();
}

function pump(): void {
  while (!stopping && inFlight < concurrency && waiting.length > 0) start(waiting.pop()!);
  if (welcomedCount === opened) reportWave();
}

function start(index: number): void {
  inFlight++;
  if (wave && wave.firstAttemptAt === 0) wave.firstAttemptAt = wallClockMs();
  const agent = agents[index]!;
  const channel = openChannel(transport, {
    target,
    credential: agent.credential,
    localAddress: sourceAddressOf(index),
    events: {
      onOpen: () => {
        channel.send(helloOf(index));
      },
      onMessage: (bytes) => {
        receive(index, channel, bytes);
      },
      onClose: (reason, retryAfterMs) => {
        closed(index, reason, retryAfterMs ?? 0);
      },
    },
  });
  channels[index] = channel;
}

function receive(index: number, channel: AgentChannel, bytes: Uint8Array): void {
  const message = fromBinary(GatewayMessageSchema, bytes).kind;
  switch (message.case) {
    case 'welcome':
      if (welcomed[index] === 1) return;
      welcomed[index] = 1;
      attempts[index] = 0;
      welcomedCount++;
      inFlight--;
      if (wave) wave.lastWelcomedAt = wallClockMs();
      if (heartbeatIntervalMs === 0) startHeartbeats(message.value.heartbeatIntervalMs);
      pump();
      return;
    case 'command': {
      const command = message.value;
      receipts.push([command.id, wallClockMs()]);
      channel.send(
        toBinary(
          AgentMessageSchema,
          create(AgentMessageSchema, {
            kind: {
              case: 'commandResult',
              value: {
                commandId: command.id,
                sessionId: command.sessionId,
                outcome: CommandOutcome.COMPLETED,
                exitCode: 0,
                finalOutputLine: 'ok',
                durationMs: 0,
              },
            },
          }),
        ),
      );
      return;
    }
    case 'drain':
      // Reconnect after the delay the gateway chose, as a real agent does.
      drained[index] = 1;
      channel.close();
      setTimeout(() => {
        drained[index] = 0;
        waiting.push(index);
        pump();
      }, message.value.reconnectAfterMs).unref();
      return;
    case 'cancel':
    case undefined:
      return;
  }
}

function closed(index: number, reason: string, retryAfterMs: number): void {
  channels[index] = undefined;
  if (stopping) return;
  tally(reason);
  if (welcomed[index] === 1) {
    // Dropped after its Welcome (idle timeout, superseded, …): it reconnects like a real agent.
    welcomed[index] = 0;
    welcomedCount--;
  } else {
    inFlight--;
  }
  if (drained[index] === 1) return;
  if (wave) wave.retries++;
  // A refused or failed attempt backs off with full jitter, as an agent does (capped low: this is a bench),
  // but never sooner than the refusal's retry-after.
  attempts[index] = Math.min(attempts[index]! + 1, 6);
  setTimeout(
    () => {
      waiting.push(index);
      pump();
    },
    Math.max(retryAfterMs, Math.random() * 100 * 2 ** attempts[index]),
  ).unref();
}

function startHeartbeats(intervalMs: number): void {
  heartbeatIntervalMs = Math.max(intervalMs, 1_000);
  // One timer for every agent: each tick sends to the next slice, so all are covered once per interval.
  const tickMs = 200;
  let cursor = 0;
  setInterval(() => {
    const slice = Math.ceil((count * tickMs) / heartbeatIntervalMs);
    for (let sent = 0; sent < slice; sent++) {
      if (welcomed[cursor] === 1) channels[cursor]?.send(heartbeat);
      cursor = (cursor + 1) % count;
    }
  }, tickMs);
}

function flushReceipts(): void {
  if (receipts.length === 0) return;
  report({ type: 'receipts', items: receipts });
  receipts = [];
}

setInterval(flushReceipts, 250);
setInterval(() => {
  report({
    type: 'progress',
    welcomed: welcomedCount,
    open: inFlight,
    retries: wave?.retries ?? 0,
    failures: wave?.failures ?? {},
  });
}, 2_000);

process.on('message', (instruction: FleetInstruction) => {
  if (instruction.type === 'connect') {
    connectUpTo(instruction.upTo);
    return;
  }
  if (instruction.type === 'flush') {
    flushReceipts();
    return;
  }
  stopping = true;
  flushReceipts();
  for (const channel of channels) channel?.close();
  // Let the last IPC message out before leaving.
  setTimeout(() => process.exit(0), 200);
});
process.on('disconnect', () => process.exit(0));
