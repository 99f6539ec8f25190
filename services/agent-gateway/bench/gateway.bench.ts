// The agent gateway at fleet scale, on loopback: `npm run bench:gateway` (or
// `node services/agent-gateway/bench/gateway.bench.ts [--agents 18000] [--rate 5000] [--seconds 10]
// [--transports websocket,grpc,raw-tcp]`). For each transport it starts the server in its own process (the
// real gateway for WebSocket and gRPC, bench/raw-tcp-floor.ts for the floor), connects a simulated fleet
// (bench/fleet.ts, separate processes, spread over 127.0.0.x source addresses), and measures:
//   - RSS per idle connection: server VmRSS after a forced full GC with all agents connected, minus the same
//     before any connected, divided by the agents connected;
//   - accepts per second: agents welcomed / time from the first connection attempt to the last Welcome;
//   - dispatch latency inside the server while commands flow at a fixed rate (gateway: interpolated from its
//     Prometheus dispatch histogram, so exact only to a bucket's width; floor: exact samples);
//   - Kafka to socket: from the publish of each `converge.command.requested.v1` (the moment its Kafka
//     CreateTime records) to the fleet reading its Command frame, on the same clock.
// Progress goes to stderr; the last line on stdout is one JSON object with the figures, targets and `met`.
//
// Two limits of this machine bound the run, and the output says so where a target is missed:
//   - 20,000 open files per process (`ulimit -Hn`, not raisable here): neither one gateway nor one fleet
//     process can hold 50,000 sockets;
//   - the local store: FerretDB v1 with its SQLite backend scans the agents collection on every lookup, and
//     the gateway checks each connection's credential there (measured with 200 / 5,000 / 20,000 agents
//     enrolled: `findOne({ _id })` 1.2 / 6 / 21 ms, `{ _id, secretHash }` 4 / 80 / 255 ms), so accepts slow
//     down as the fleet grows and 18,000 agents would take hours to connect.
//     The default is 1,000 agents, which connects in under a minute per transport (2,000 take three minutes);
//     `--agents` changes it.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBus, type Bus, type OutgoingEvent } from '@converge/bus';
import { agentCommandRequested, type AgentCommandRequested } from '@converge/contracts';
import { createLogger } from '@converge/telemetry';
import { seededRandom, stack, startService, uniqueId, waitFor, type ServiceProcess } from '@converge/testing';
import {
  transports,
  type CredentialsFile,
  type FleetInstruction,
  type FleetReport,
  type FloorInstruction,
  type FloorReport,
  type Transport,
} from './bench-messages.ts';
import type { ChannelTarget } from './fleet-channels.ts';
import { dropFleetDatabase, enrollFleet } from './fleet-enrollment.ts';
import {
  bucketsBetween,
  histogramBuckets,
  histogramQuantiles,
  quantilesOf,
  scaled,
  wallClockMs,
  type CumulativeBuckets,
  type Quantiles,
} from './latency.ts';
import { freePort, settledResidentBytes } from './process-memory.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    // One fleet process holds at most this many agents (its own open-file limit).
    'agents-per-fleet': { type: 'string', default: '18000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '10' },
    transports: { type: 'string', default: transports.join(',') },
    'source-addresses': { type: 'string', default: '16' },
    tenants: { type: 'string', default: '50' },
    // The gateway's admission bucket is opened wide so that accepts per second measures the accept path;
    // with its default (1,000/s) the figure would be the bucket's rate.
    'admission-rate': { type: 'string', default: '100000' },
    seed: { type: 'string', default: '7' },
  },
});

const agents = Number(values.agents);
const agentsPerFleet = Number(values['agents-per-fleet']);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const admissionRate = Number(values['admission-rate']);
const seed = Number(values.seed);
const selected = values.transports.split(',').map((name) => name.trim()) as Transport[];
for (const transport of selected) {
  if (!transports.includes(transport)) throw new Error(`unknown transport ${transport}`);
}

// The per-process open-file limit every server and fleet process inherits.
const fdLimit = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
const targets = {
  agents_per_gateway: 50_000,
  agents_per_gateway_stretch: 100_000,
  rss_bytes_per_idle_ws_connection: 8192,
  dispatch_p99_ms: 5,
  dispatch_rate_per_second: 5000,
  kafka_to_socket_p99_ms: 50,
};

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

function progress(message: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), msg: message, ...fields })}\n`);
}

interface DispatchFigures {
  ms: Quantiles | null;
  observed: number;
  source: string;
}

/** A server under test: the gateway (one transport measured at a time) or the raw-TCP floor. */
interface ServerUnderTest {
  pid: number;
  inspectorPort: number;
  agentTarget: ChannelTarget;
  /** Starts a measuring window for dispatch latency; the returned function ends it. */
  dispatchWindow(): Promise<() => Promise<DispatchFigures>>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------- the gateway

/** Whichever histogram of the gateway's /metrics measures dispatch, and its unit's factor to milliseconds. */
function dispatchHistogram(exposition: string): { name: string; toMs: number } | undefined {
  const name = /^# TYPE (\S*dispatch\S*) histogram$/m.exec(exposition)?.[1];
  if (name === undefined) return undefined;
  return { name, toMs: /seconds/.test(name) ? 1000 : 1 };
}

async function agentTargetOf(gateway: ServiceProcess, transport: Transport): Promise<ChannelTarget> {
  const ready = await gateway.waitForLog((line) => line.msg === 'agent listeners ready', 30_000);
  return { host: '127.0.0.1', port: Number(transport === 'grpc' ? ready.agentGrpcPort : ready.agentPort) };
}

async function startGateway(
  transport: Transport,
  databasePrefix: string,
  runId: string,
): Promise<ServerUnderTest> {
  const inspectorPort = await freePort();
  const gateway = await startService({
    entry: here('../src/main.ts'),
    name: 'agent-gateway',
    timeoutMs: 60_000,
    env: {
      NODE_OPTIONS: `--inspect=127.0.0.1:${inspectorPort}`,
      LOG_LEVEL: 'info',
      MONGO_DATABASE_PREFIX: databasePrefix,
      AGENT_PORT: '0',
      AGENT_GRPC_PORT: '0',
      REPLICA_ID: `${runId}-${transport}`,
      COMMANDS_GROUP_ID: `${runId}-${transport}`,
      REDIS_KEY_PREFIX: runId,
      ADMISSION_RATE: String(admissionRate),
      ADMISSION_BURST: String(admissionRate),
      ADMISSION_MAX_QUEUE: String(Math.max(agents, 20_000)),
      ADMISSION_MAX_WAIT: '60s',
      SHUTDOWN_TIMEOUT: '10s',
      DRAIN_SPREAD: '1s',
      DRAIN_MARGIN: '2s',
    },
  });
  const pid = gateway.child.pid!;
  const agentTarget = await agentTargetOf(gateway, transport);
  const scrape = async () => (await fetch(`${gateway.baseUrl}/metrics`)).text();
  return {
    pid,
    inspectorPort,
    agentTarget,
    dispatchWindow: async () => {
      const before = await scrape();
      return async () => {
        const after = await scrape();
        const histogram = dispatchHistogram(after);
        if (!histogram) return { ms: null, observed: 0, source: 'the gateway exposes no dispatch histogram' };
        const observed: CumulativeBuckets = bucketsBetween(
          histogramBuckets(before, histogram.name),
          histogramBuckets(after, histogram.name),
        );
        return {
          ms: scaled(histogramQuantiles(observed), histogram.toMs) ?? null,
          observed: observed.get(Number.POSITIVE_INFINITY) ?? 0,
          source: `interpolated from the buckets of ${histogram.name} (/metrics), exact only to a bucket's width`,
        };
      };
    },
    stop: async () => {
      await gateway.stop();
    },
  };
}

// ------------------------------------------------------------------------------------------------ the floor

async function startFloor(runId: string): Promise<ServerUnderTest> {
  const inspectorPort = await freePort();
  const floor = fork(here('./raw-tcp-floor.ts'), ['--group', `${runId}-raw-tcp`], {
    execArgv: [`--inspect=127.0.0.1:${inspectorPort}`],
    env: { ...process.env, KAFKA_BROKERS: stack.kafkaBrokers.join(',') },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  floor.stderr?.resume(); // the inspector's banner
  const next = <T extends FloorReport['type']>(type: T) =>
    new Promise<Extract<FloorReport, { type: T }>>((resolve, reject) => {
      const onMessage = (report: FloorReport) => {
        if (report.type !== type) return;
        floor.off('message', onMessage);
        resolve(report as Extract<FloorReport, { type: T }>);
      };
      floor.on('message', onMessage);
      floor.once('exit', (code) => {
        reject(new Error(`raw-tcp floor exited with ${code}`));
      });
    });
  const instruct = (instruction: FloorInstruction) => floor.send(instruction);
  const { port } = await next('listening');
  return {
    pid: floor.pid!,
    inspectorPort,
    agentTarget: { host: '127.0.0.1', port },
    dispatchWindow: async () => {
      const reset = next('stats');
      instruct({ type: 'stats' });
      await reset;
      return async () => {
        const stats = next('stats');
        instruct({ type: 'stats' });
        const { dispatchMs, dispatched } = await stats;
        return {
          ms: dispatchMs,
          observed: dispatched,
          source: 'exact samples: handler start to socket write',
        };
      };
    },
    stop: async () => {
      const exited = new Promise((resolve) => floor.once('exit', resolve));
      instruct({ type: 'stop' });
      await Promise.race([exited, delay(10_000)]);
      floor.kill('SIGKILL');
    },
  };
}

// ------------------------------------------------------------------------------------------------ the fleet

interface FleetGroup {
  connected: Promise<{
    welcomed: number;
    failed: number;
    retries: number;
    seconds: number;
    failures: Record<string, number>;
  }>;
  /** Command id → when the fleet read it (wallClockMs). */
  receipts: Map<string, number>;
  flush(): void;
  stop(): Promise<void>;
}

function startFleets(transport: Transport, target: ChannelTarget, credentialsPath: string): FleetGroup {
  const receipts = new Map<string, number>();
  const children: ChildProcess[] = [];
  const connectedReports: Promise<Extract<FleetReport, { type: 'connected' }>>[] = [];
  for (let from = 0; from < agents; from += agentsPerFleet) {
    const child = fork(
      here('./fleet.ts'),
      [
        ...['--transport', transport, '--target', `${target.host}:${target.port}`],
        ...['--credentials', credentialsPath, '--from', String(from)],
        ...['--count', String(Math.min(agentsPerFleet, agents - from))],
        ...['--source-addresses', values['source-addresses'], '--seed', String(seed)],
      ],
      { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    children.push(child);
    connectedReports.push(
      new Promise((resolve, reject) => {
        child.on('message', (report: FleetReport) => {
          if (report.type === 'receipts') for (const [id, at] of report.items) receipts.set(id, at);
          else if (report.type === 'connected') resolve(report);
          else progress(`${transport} fleet connecting`, { from, ...report });
        });
        child.once('exit', (code) => {
          reject(new Error(`fleet exited with ${code}`));
        });
      }),
    );
  }
  const connected = Promise.all(connectedReports).then((reports) => {
    const failures: Record<string, number> = {};
    for (const report of reports) {
      for (const [reason, count] of Object.entries(report.failures))
        failures[reason] = (failures[reason] ?? 0) + count;
    }
    const first = Math.min(...reports.map((report) => report.firstAttemptAt));
    const last = Math.max(...reports.map((report) => report.lastWelcomedAt));
    return {
      welcomed: reports.reduce((sum, report) => sum + report.welcomed, 0),
      failed: reports.reduce((sum, report) => sum + report.failed, 0),
      retries: reports.reduce((sum, report) => sum + report.retries, 0),
      seconds: (last - first) / 1000,
      failures,
    };
  });
  const instructAll = (instruction: FleetInstruction) => {
    for (const child of children) if (child.connected) child.send(instruction);
  };
  return {
    connected,
    receipts,
    flush: () => {
      instructAll({ type: 'flush' });
    },
    stop: async () => {
      const exits = children.map((child) =>
        child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve(),
      );
      instructAll({ type: 'stop' });
      await Promise.race([Promise.all(exits), delay(10_000)]);
      for (const child of children) child.kill('SIGKILL');
    },
  };
}

// --------------------------------------------------------------------------------------------- the commands

function commandFor(
  agent: CredentialsFile['agents'][number],
  commandId: string,
  now: Date,
): AgentCommandRequested {
  return {
    commandId,
    agentId: agent.agentId,
    tenantId: agent.tenantId,
    sessionId: `bench-session-${commandId}`,
    actionId: 'bench-action',
    language: 'bash',
    context: 'system',
    body: 'echo ok',
    parameters: {},
    timeoutSeconds: 60,
    requestedAt: now.toISOString(),
  };
}

async function publishCommands(
  bus: Bus,
  fleet: CredentialsFile,
  prefix: string,
  count: number,
  published: Map<string, number>,
  pick: () => number,
): Promise<void> {
  const at = wallClockMs();
  const now = new Date(at);
  const events: OutgoingEvent<AgentCommandRequested>[] = [];
  for (let n = 0; n < count; n++) {
    const agent = fleet.agents[pick()]!;
    const commandId = `${prefix}-${published.size + n}`;
    events.push({
      subject: agent.agentId,
      tenantId: agent.tenantId,
      data: commandFor(agent, commandId, now),
    });
  }
  for (const event of events) published.set(event.data.commandId, at);
  await bus.publishMany(agentCommandRequested, events);
}

/** One command at a time until the fleet reads one: the server's consumer has joined and the path is warm. */
async function warmUp(bus: Bus, fleet: CredentialsFile, group: FleetGroup, prefix: string): Promise<void> {
  const published = new Map<string, number>();
  await waitFor(
    async () => {
      let next = published.size;
      await publishCommands(bus, fleet, `${prefix}-warm-up`, 20, published, () => next++ % agents);
      group.flush();
      await delay(250);
      return [...published.keys()].some((id) => group.receipts.has(id));
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
}

/** Commands at `rate` per second for `seconds`, each batch holding what the schedule owes at that moment. */
async function driveCommands(bus: Bus, fleet: CredentialsFile, prefix: string): Promise<Map<string, number>> {
  const published = new Map<string, number>();
  const random = seededRandom(seed);
  const pick = () => Math.floor(random() * agents);
  const total = rate * seconds;
  const startedAt = performance.now();
  while (published.size < total) {
    const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1000) * rate)) - published.size;
    if (due > 0) await publishCommands(bus, fleet, prefix, due, published, pick);
    else await delay(1);
  }
  return published;
}

// --------------------------------------------------------------------------------------------------- a phase

async function measure(
  transport: Transport,
  server: ServerUnderTest,
  bus: Bus,
  fleet: CredentialsFile,
  credentialsPath: string,
  runId: string,
) {
  const rssBefore = await settledResidentBytes(server.pid, server.inspectorPort);
  progress(`${transport}: server up`, { rssBefore, target: server.agentTarget });
  const group = startFleets(transport, server.agentTarget, credentialsPath);
  try {
    const connected = await group.connected;
    progress(`${transport}: fleet connected`, { ...connected });
    const rssAfter = await settledResidentBytes(server.pid, server.inspectorPort);

    await warmUp(bus, fleet, group, `${runId}-${transport}`);
    const endWindow = await server.dispatchWindow();
    const startedAt = performance.now();
    const published = await driveCommands(bus, fleet, `${runId}-${transport}-cmd`);
    const publishSeconds = (performance.now() - startedAt) / 1000;
    progress(`${transport}: commands published`, { commands: published.size, publishSeconds });

    // Until every command arrived, or none arrived for five seconds (an agent that dropped gets none).
    let lastSeen = -1;
    let quietSince = performance.now();
    const arrived = () => [...published.keys()].filter((id) => group.receipts.has(id)).length;
    for (let received = arrived(); received < published.size; received = arrived()) {
      if (received !== lastSeen) [lastSeen, quietSince] = [received, performance.now()];
      else if (performance.now() - quietSince > 5_000) break;
      group.flush();
      await delay(250);
    }
    const dispatch = await endWindow();

    const latencies = new Float64Array(published.size);
    let received = 0;
    for (const [id, publishedAt] of published) {
      const receivedAt = group.receipts.get(id);
      if (receivedAt !== undefined) latencies[received++] = receivedAt - publishedAt;
    }
    const perConnection = connected.welcomed > 0 ? (rssAfter - rssBefore) / connected.welcomed : null;
    return {
      agents_requested: agents,
      agents_connected: connected.welcomed,
      connect_failures: connected.failures,
      connect_retries: connected.retries,
      rss_bytes_before: rssBefore,
      rss_bytes_after: rssAfter,
      rss_bytes_per_idle_connection: perConnection === null ? null : Math.round(perConnection),
      accepts_per_second: connected.seconds > 0 ? Math.round(connected.welcomed / connected.seconds) : null,
      connect_seconds: Math.round(connected.seconds * 100) / 100,
      commands_sent: published.size,
      commands_received: received,
      command_rate_per_second: Math.round(published.size / publishSeconds),
      dispatch_ms: { ...dispatch.ms, observed: dispatch.observed, source: dispatch.source },
      kafka_to_socket_ms: { ...quantilesOf(latencies.subarray(0, received)), samples: received },
    };
  } finally {
    await group.stop();
  }
}

type PhaseFigures = Awaited<ReturnType<typeof measure>>;

function verdicts(results: Partial<Record<Transport, PhaseFigures | { error: string }>>) {
  const figures = (transport: Transport) => {
    const result = results[transport];
    return result && !('error' in result) ? result : undefined;
  };
  const gatewayTransports = (['websocket', 'grpc'] as const).filter((transport) => figures(transport));
  const met: Record<string, boolean> = {};
  const reasons: Record<string, string> = {};

  const mostAgents = Math.max(
    0,
    ...gatewayTransports.map((transport) => figures(transport)!.agents_connected),
  );
  met.agents_per_gateway = mostAgents >= targets.agents_per_gateway;
  met.agents_per_gateway_stretch = mostAgents >= targets.agents_per_gateway_stretch;
  if (!met.agents_per_gateway) {
    reasons.agents_per_gateway =
      `${mostAgents} of ${agents} agents connected (${agents} attempted). Not reachable here: a process may open ` +
      `at most ${fdLimit} files (ulimit -Hn, not raisable), and each connection's credential lookup on the ` +
      `local FerretDB (SQLite backend) scans the agents collection, so accepts slow down as the fleet grows`;
  }

  const websocket = figures('websocket');
  const rss = websocket?.rss_bytes_per_idle_connection;
  met.rss_bytes_per_idle_ws_connection =
    rss !== undefined && rss !== null && rss <= targets.rss_bytes_per_idle_ws_connection;
  if (!met.rss_bytes_per_idle_ws_connection) {
    reasons.rss_bytes_per_idle_ws_connection = websocket
      ? `${rss} bytes per idle WebSocket connection`
      : 'not measured';
  }

  const ratesHeld = gatewayTransports.every(
    (transport) => figures(transport)!.command_rate_per_second >= targets.dispatch_rate_per_second * 0.95,
  );
  const dispatchP99 = gatewayTransports.map((transport) => figures(transport)!.dispatch_ms.p99);
  met.dispatch_p99_ms =
    gatewayTransports.length > 0 &&
    ratesHeld &&
    dispatchP99.every((p99) => p99 !== undefined && p99 <= targets.dispatch_p99_ms);
  if (!met.dispatch_p99_ms) {
    reasons.dispatch_p99_ms = !ratesHeld
      ? `commands were not driven at ${targets.dispatch_rate_per_second}/s (see command_rate_per_second)`
      : `gateway dispatch p99 ${gatewayTransports.map((t, i) => `${t} ${dispatchP99[i] ?? 'unmeasured'} ms`).join(', ')}`;
  }

  const kafkaP99 = gatewayTransports.map((transport) => figures(transport)!.kafka_to_socket_ms.p99);
  met.kafka_to_socket_p99_ms =
    gatewayTransports.length > 0 &&
    kafkaP99.every((p99) => p99 !== undefined && p99 <= targets.kafka_to_socket_p99_ms);
  if (!met.kafka_to_socket_p99_ms) {
    reasons.kafka_to_socket_p99_ms = `Kafka to socket p99 ${gatewayTransports.map((t, i) => `${t} ${kafkaP99[i] ?? 'unmeasured'} ms`).join(', ')}`;
  }
  return { met, reasons };
}

// ------------------------------------------------------------------------------------------------------ run

execFileSync('bash', [join(repoRoot, 'scripts/stack.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
const runId = uniqueId('gwbench');
const databasePrefix = runId.replace(/-/g, '_');
const credentialsPath = join(tmpdir(), `${runId}-fleet.json`);
const enrollStartedAt = performance.now();
const fleet = await enrollFleet({
  mongoUri: stack.mongoUri,
  databasePrefix,
  agents,
  tenants: Number(values.tenants),
  runId,
  seed,
});
writeFileSync(credentialsPath, JSON.stringify(fleet), { mode: 0o600 });
progress('fleet enrolled', { agents, seconds: (performance.now() - enrollStartedAt) / 1000 });

const bus = createBus({
  brokers: [...stack.kafkaBrokers],
  clientId: 'gateway-bench',
  source: 'gateway-bench',
  logger: createLogger({ service: 'gateway-bench', level: 'warn' }),
});
await bus.connect();

const results: Partial<Record<Transport, PhaseFigures | { error: string }>> = {};
try {
  for (const transport of selected) {
    const server =
      transport === 'raw-tcp'
        ? await startFloor(runId)
        : await startGateway(transport, databasePrefix, runId);
    try {
      results[transport] = await measure(transport, server, bus, fleet, credentialsPath, runId);
    } catch (error) {
      // One transport failing still leaves the others' figures.
      results[transport] = { error: error instanceof Error ? error.message : String(error) };
      progress(`${transport}: failed`, results[transport]);
    } finally {
      await server.stop();
    }
  }
} finally {
  await bus.disconnect();
  rmSync(credentialsPath, { force: true });
  await dropFleetDatabase(stack.mongoUri, databasePrefix);
}

const { met, reasons } = verdicts(results);
console.log(
  JSON.stringify({
    bench: 'gateway',
    agents,
    fd_limit: fdLimit,
    command_rate_per_second: rate,
    command_seconds: seconds,
    admission_rate_per_second: admissionRate,
    websocket: results.websocket,
    grpc: results.grpc,
    raw_tcp: results['raw-tcp'],
    targets,
    met,
    reasons,
  }),
);
process.exit(0);
