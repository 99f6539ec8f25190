// The agent gateway at fleet scale, on loopback: `npm run bench:gateway` (or
// `node services/agent-gateway/bench/gateway.bench.ts [--agents 15000] [--first-wave 5000] [--rate 5000]
// [--seconds 10] [--transports websocket,grpc,raw-tcp]`). For each transport it starts the server in its own
// process (the real gateway, `src/main.ts` with the configuration `npm start` gives it, for WebSocket and gRPC;
// bench/raw-tcp-floor.ts for the floor), connects a simulated fleet (bench/fleet.ts, separate processes, spread
// over 127.0.0.x source addresses) and measures:
//   - RSS per idle connection: the slope of the server's VmRSS (after a forced full GC) between `--first-wave`
//     and `--agents` connected agents, so the process's fixed costs do not count;
//   - Kafka to socket: commands at `--rate` per second for `--seconds` (published by bench/command-publisher.ts,
//     which yields these shared cores to the system under test), from the publish of each
//     `converge.command.requested.v1` to the fleet reading its Command frame, on the same clock; and the
//     dispatch time inside the server (gateway: interpolated from its Prometheus histogram, exact only to a
//     bucket's width; floor: exact samples). Every agent answers each command at once, so results flow back
//     at the same rate;
//   - a reconnect storm: the server is restarted (a new process, nothing held in it) and all agents connect
//     again at once: accepted authenticated connections per second (agents welcomed / time from the first
//     attempt to the last Welcome), how long the storm took to absorb, and refused credentials (HTTP 401, gRPC
//     UNAUTHENTICATED), which must be none;
//   - what the gateway asked of its store: the first connection of each agent reads its credential there, many
//     agents per query; a storm finds them in Redis;
//   - the CPU seconds of every part of the run (server, fleet, publisher, this driver, broker, store, Redis) and
//     of the whole machine while commands flow and while the storm is absorbed: the cores are shared, also
//     with other people's work, and the figures say how much of them the run had.
// The run has its own topics (`KAFKA_TOPIC_PREFIX`), Redis prefix and database, removed at the end.
// Progress goes to stderr; the last line on stdout is one JSON object with the figures, targets and `met`.
//
// This machine allows 20,000 open files per process (`ulimit -Hn`, not raisable here), so one gateway holds
// the 15,000 agents of the default run, and the fleet is split over processes of at most `--agents-per-fleet`.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { createBus, type Bus, type OutgoingEvent } from '@converge/bus';
import { agentCommandRequested, topics, type AgentCommandRequested } from '@converge/contracts';
import { createLogger } from '@converge/telemetry';
import { stack, startService, uniqueId, waitFor, type ServiceProcess } from '@converge/testing';
import { benchCommand } from './bench-commands.ts';
import {
  transports,
  type CredentialsFile,
  type FleetInstruction,
  type FleetReport,
  type FloorInstruction,
  type FloorReport,
  type PublisherInstruction,
  type PublisherReport,
  type Transport,
  type WaveReport,
} from './bench-messages.ts';
import type { ChannelTarget } from './fleet-channels.ts';
import { dropFleetDatabase, enrollFleet } from './fleet-enrollment.ts';
import {
  bucketsBetween,
  counterTotal,
  histogramBuckets,
  histogramQuantiles,
  quantilesOf,
  scaled,
  wallClockMs,
  type CumulativeBuckets,
  type Quantiles,
} from './latency.ts';
import { cpuSeconds, freePort, machineBusySeconds, settledResidentBytes } from './process-memory.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '15000' },
    'first-wave': { type: 'string', default: '5000' },
    // One fleet process holds at most this many agents: two processes share the default run's 15,000.
    'agents-per-fleet': { type: 'string', default: '7500' },
    // Connection attempts each fleet process keeps in flight: a storm of agents retrying at once.
    concurrency: { type: 'string', default: '500' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '10' },
    transports: { type: 'string', default: transports.join(',') },
    'source-addresses': { type: 'string', default: '16' },
    tenants: { type: 'string', default: '50' },
    seed: { type: 'string', default: '7' },
    // Extra Node options for the server processes (the gateway, the floor), e.g.
    // `--server-node-options='--cpu-prof --cpu-prof-dir=/tmp/prof'`.
    'server-node-options': { type: 'string', default: '' },
  },
});

const agents = Number(values.agents);
const firstWave = Math.min(Number(values['first-wave']), agents);
const agentsPerFleet = Number(values['agents-per-fleet']);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const seed = Number(values.seed);
const selected = values.transports.split(',').map((name) => name.trim()) as Transport[];
for (const transport of selected) {
  if (!transports.includes(transport)) throw new Error(`unknown transport ${transport}`);
}

// The per-process open-file limit every server and fleet process inherits.
const fdLimit = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
const targets = {
  accepts_per_second: 1000,
  storm_seconds: 30,
  auth_failures: 0,
  rss_bytes_per_idle_ws: 8192,
  kafka_to_socket_p99_ms: 50,
};
// The gateway's partitions as `npm start` creates them (KAFKA_PARTITIONS' default; test helpers use 3).
const partitions = 12;

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
  /** Commands the server has sent to its database so far (null for the floor, which has none). */
  storeOperations(): Promise<number | null>;
  stop(): Promise<void>;
}

interface RunContext {
  runId: string;
  databasePrefix: string;
  topicPrefix: string;
}

// ---------------------------------------------------------------------------------------------- the gateway

/** Whichever histogram of the gateway's /metrics measures dispatch, and its unit's factor to milliseconds. */
function dispatchHistogram(exposition: string): { name: string; toMs: number } | undefined {
  const name = /^# TYPE (\S*dispatch\S*) histogram$/m.exec(exposition)?.[1];
  if (name === undefined) return undefined;
  return { name, toMs: /seconds/.test(name) ? 1000 : 1 };
}

async function agentTargetOf(gateway: ServiceProcess, transport: Transport): Promise<ChannelTarget> {
  const ready = await gateway.waitForLog((line) => line.msg === 'agent listeners ready', 60_000);
  return { host: '127.0.0.1', port: Number(transport === 'grpc' ? ready.agentGrpcPort : ready.agentPort) };
}

/**
 * The gateway as `npm start` runs it: its own defaults for admission, heartbeats, timeouts and caches. Only
 * what isolates the run is set: ports, names, prefixes and the group.
 */
async function startGateway(
  transport: Transport,
  run: RunContext,
  incarnation: number,
): Promise<ServerUnderTest> {
  const inspectorPort = await freePort();
  const gateway = await startService({
    entry: here('../src/main.ts'),
    name: 'agent-gateway',
    timeoutMs: 60_000,
    env: {
      NODE_OPTIONS: `--inspect=127.0.0.1:${inspectorPort} ${values['server-node-options']}`.trim(),
      LOG_LEVEL: 'info',
      KAFKA_PARTITIONS: String(partitions),
      KAFKA_TOPIC_PREFIX: run.topicPrefix,
      MONGO_DATABASE_PREFIX: run.databasePrefix,
      AGENT_PORT: '0',
      AGENT_GRPC_PORT: '0',
      REPLICA_ID: `${run.runId}-${transport}-${incarnation}`,
      COMMANDS_GROUP_ID: `${run.runId}-${transport}`,
      REDIS_KEY_PREFIX: run.runId,
      COMMAND_SECRETS_KEY: randomBytes(32).toString('base64'),
      SHUTDOWN_TIMEOUT: '10s',
    },
  });
  const pid = gateway.child.pid!;
  const agentTarget = await agentTargetOf(gateway, transport);
  const scrape = async () => (await fetch(`${gateway.baseUrl}/metrics`)).text();
  const database = `${run.databasePrefix}_agent_gateway`;
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
    storeOperations: async () => counterTotal(await scrape(), 'store_operations', `database="${database}"`),
    stop: async () => {
      await gateway.stop();
    },
  };
}

// ------------------------------------------------------------------------------------------------ the floor

async function startFloor(run: RunContext): Promise<ServerUnderTest> {
  const inspectorPort = await freePort();
  const floor = fork(
    here('./raw-tcp-floor.ts'),
    [
      ...['--group', `${run.runId}-raw-tcp`, '--topic-prefix', run.topicPrefix],
      ...['--partitions', String(partitions)],
    ],
    {
      execArgv: [
        `--inspect=127.0.0.1:${inspectorPort}`,
        ...values['server-node-options'].split(' ').filter((option) => option !== ''),
      ],
      env: { ...process.env, KAFKA_BROKERS: stack.kafkaBrokers.join(',') },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  );
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
    storeOperations: () => Promise.resolve(null),
    stop: async () => {
      const exited = new Promise((resolve) => floor.once('exit', resolve));
      instruct({ type: 'stop' });
      await Promise.race([exited, delay(10_000)]);
      floor.kill('SIGKILL');
    },
  };
}

// ------------------------------------------------------------------------------------------------ the fleet

interface WaveFigures {
  welcomed: number;
  failed: number;
  retries: number;
  authFailures: number;
  seconds: number;
  failures: Record<string, number>;
}

interface FleetGroup {
  pids: number[];
  /** Connects agents [0, upTo) (those not yet connected); resolves once every fleet reported the wave. */
  connect(upTo: number): Promise<WaveFigures>;
  /** Command id → when the fleet read it (wallClockMs). */
  receipts: Map<string, number>;
  flush(): void;
  stop(): Promise<void>;
}

function startFleets(transport: Transport, target: ChannelTarget, credentialsPath: string): FleetGroup {
  const receipts = new Map<string, number>();
  const fleets: { child: ChildProcess; from: number; waves: ((report: WaveReport) => void)[] }[] = [];
  for (let from = 0; from < agents; from += agentsPerFleet) {
    const child = fork(
      here('./fleet.ts'),
      [
        ...['--transport', transport, '--target', `${target.host}:${target.port}`],
        ...['--credentials', credentialsPath, '--from', String(from)],
        ...['--count', String(Math.min(agentsPerFleet, agents - from))],
        ...['--source-addresses', values['source-addresses'], '--seed', String(seed)],
        ...['--concurrency', values.concurrency],
      ],
      { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    const fleet = { child, from, waves: [] as ((report: WaveReport) => void)[] };
    fleets.push(fleet);
    child.on('message', (report: FleetReport) => {
      if (report.type === 'receipts') for (const [id, at] of report.items) receipts.set(id, at);
      else if (report.type === 'connected') fleet.waves.shift()?.(report);
      else progress(`${transport} fleet connecting`, { from, ...report });
    });
  }
  const instruct = (child: ChildProcess, instruction: FleetInstruction) => {
    if (child.connected) child.send(instruction);
  };
  return {
    pids: fleets.map(({ child }) => child.pid!),
    connect: async (upTo) => {
      const reports = await Promise.all(
        fleets.map(
          (fleet) =>
            new Promise<WaveReport>((resolve, reject) => {
              fleet.waves.push(resolve);
              fleet.child.once('exit', (code) => {
                reject(new Error(`fleet exited with ${code}`));
              });
              instruct(fleet.child, { type: 'connect', upTo: Math.max(0, upTo - fleet.from) });
            }),
        ),
      );
      const failures: Record<string, number> = {};
      for (const report of reports) {
        for (const [reason, count] of Object.entries(report.failures))
          failures[reason] = (failures[reason] ?? 0) + count;
      }
      const attempted = reports.filter((report) => report.firstAttemptAt > 0);
      const first = Math.min(...attempted.map((report) => report.firstAttemptAt));
      const last = Math.max(...attempted.map((report) => report.lastWelcomedAt));
      const sum = (pick: (report: WaveReport) => number) =>
        reports.reduce((total, report) => total + pick(report), 0);
      return {
        welcomed: sum((report) => report.welcomed),
        failed: sum((report) => report.failed),
        retries: sum((report) => report.retries),
        authFailures: sum((report) => report.authFailures),
        seconds: attempted.length > 0 && last > first ? (last - first) / 1000 : 0,
        failures,
      };
    },
    receipts,
    flush: () => {
      for (const { child } of fleets) instruct(child, { type: 'flush' });
    },
    stop: async () => {
      const exits = fleets.map(({ child }) =>
        child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve(),
      );
      for (const { child } of fleets) instruct(child, { type: 'stop' });
      await Promise.race([Promise.all(exits), delay(10_000)]);
      for (const { child } of fleets) child.kill('SIGKILL');
    },
  };
}

// --------------------------------------------------------------------------------------------- the commands

/** Publishes the warm-up's commands, recording when each was published. */
async function publish(
  bus: Bus,
  events: OutgoingEvent<AgentCommandRequested>[],
  published: Map<string, number>,
): Promise<void> {
  const at = wallClockMs();
  for (const event of events) published.set(event.data.commandId, at);
  await bus.publishMany(agentCommandRequested, events);
}

/** A few commands at a time until the fleet reads one: the server's consumer has joined and the path is warm. */
async function warmUp(bus: Bus, fleet: CredentialsFile, group: FleetGroup, prefix: string): Promise<void> {
  const published = new Map<string, number>();
  let next = 0;
  await waitFor(
    async () => {
      const now = new Date();
      const events = Array.from({ length: 20 }, () => {
        const agent = fleet.agents[next % agents]!;
        return {
          subject: agent.agentId,
          tenantId: agent.tenantId,
          data: benchCommand(agent, `${prefix}-warm-up-${next++}`, now),
        };
      });
      await publish(bus, events, published);
      group.flush();
      await delay(250);
      return [...published.keys()].some((id) => group.receipts.has(id));
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
}

interface CommandPublisher {
  pid: number;
  /** Publishes `--rate` commands a second for `--seconds`; resolves with when each was published. */
  run(prefix: string): Promise<{ published: Map<string, number>; seconds: number }>;
  stop(): Promise<void>;
}

function startCommandPublisher(run: RunContext, credentialsPath: string): Promise<CommandPublisher> {
  const child = fork(
    here('./command-publisher.ts'),
    [
      ...['--credentials', credentialsPath, '--topic-prefix', run.topicPrefix],
      ...['--rate', String(rate), '--seconds', String(seconds), '--seed', String(seed)],
    ],
    { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  let published = new Map<string, number>();
  let finished: ((seconds: number) => void) | undefined;
  let failed: ((error: Error) => void) | undefined;
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const error = new Error(`command publisher exited with ${code}`);
      reject(error);
      failed?.(error);
    });
    child.on('message', (report: PublisherReport) => {
      if (report.type === 'published') for (const [id, at] of report.items) published.set(id, at);
      else if (report.type === 'done') finished?.(report.seconds);
      else
        resolve({
          pid: child.pid!,
          run: async (prefix) => {
            published = new Map();
            const done = new Promise<number>((finish, fail) => {
              finished = finish;
              failed = fail;
            });
            child.send({ type: 'publish', prefix } satisfies PublisherInstruction);
            const publishSeconds = await done;
            return { published, seconds: publishSeconds };
          },
          stop: async () => {
            const exited = new Promise((exit) => child.once('exit', exit));
            child.send({ type: 'stop' } satisfies PublisherInstruction);
            await Promise.race([exited, delay(10_000)]);
            child.kill('SIGKILL');
          },
        });
    });
  });
}

// --------------------------------------------------------------------------------------------------- a phase

const perSecond = (wave: WaveFigures) => (wave.seconds > 0 ? Math.round(wave.welcomed / wave.seconds) : null);

/** What every phase of the run shares. */
interface Bench {
  runId: string;
  bus: Bus;
  fleet: CredentialsFile;
  credentialsPath: string;
  publisher: CommandPublisher;
}

async function measure(
  transport: Transport,
  start: (incarnation: number) => Promise<ServerUnderTest>,
  bench: Bench,
) {
  const { credentialsPath } = bench;
  // Idle agents and commands, on a server that met every agent for the first time.
  let server = await start(1);
  const group = startFleets(transport, server.agentTarget, credentialsPath);
  let rssFirstWave: number;
  let rssAll: number;
  let waves: [WaveFigures, WaveFigures];
  let commands: Awaited<ReturnType<typeof commandLatency>>;
  let storeOperationsFirstConnections: number | null;
  try {
    const storeBefore = await server.storeOperations();
    const first = await group.connect(firstWave);
    progress(`${transport}: first wave connected`, { ...first });
    rssFirstWave = await settledResidentBytes(server.pid, server.inspectorPort);
    const rest = await group.connect(agents);
    progress(`${transport}: all agents connected`, { ...rest });
    storeOperationsFirstConnections = difference(await server.storeOperations(), storeBefore);
    rssAll = await settledResidentBytes(server.pid, server.inspectorPort);
    waves = [first, rest];
    commands = await commandLatency(transport, server, group, bench);
  } finally {
    await group.stop();
    await server.stop();
  }

  // The reconnect storm: a new server process, every agent connecting again at once.
  server = await start(2);
  const storming = startFleets(transport, server.agentTarget, credentialsPath);
  let storm: WaveFigures;
  let stormCpu: Record<string, number>;
  let storeOperationsStorm: number | null;
  try {
    const storeBefore = await server.storeOperations();
    const cpuBefore = await cpuOfRun(server, storming, bench.publisher);
    storm = await storming.connect(agents);
    stormCpu = cpuBetween(cpuBefore, await cpuOfRun(server, storming, bench.publisher), storm.seconds);
    storeOperationsStorm = difference(await server.storeOperations(), storeBefore);
    progress(`${transport}: reconnect storm absorbed`, { ...storm });
  } finally {
    await storming.stop();
    await server.stop();
  }

  const added = waves[1].welcomed - waves[0].welcomed;
  return {
    agents_connected: waves[1].welcomed,
    first_connect_accepts_per_second: perSecond({
      ...waves[0],
      welcomed: waves[1].welcomed,
      seconds: waves[0].seconds + waves[1].seconds,
    }),
    rss_bytes_first_wave: rssFirstWave,
    rss_bytes_all: rssAll,
    rss_bytes_per_idle_connection: added > 0 ? Math.round((rssAll - rssFirstWave) / added) : null,
    // The first connection of each agent read its credential from the store, many per query; a storm of
    // reconnects found them in Redis.
    store_operations_first_connections: storeOperationsFirstConnections,
    store_operations_storm: storeOperationsStorm,
    storm_agents_welcomed: storm.welcomed,
    storm_accepts_per_second: perSecond(storm),
    storm_seconds: Math.round(storm.seconds * 100) / 100,
    storm_auth_failures: storm.authFailures + waves[0].authFailures + waves[1].authFailures,
    storm_failed: storm.failed,
    storm_retries: storm.retries,
    storm_refusals: storm.failures,
    cpu_seconds_while_storming: stormCpu,
    ...commands,
  };
}

async function commandLatency(
  transport: Transport,
  server: ServerUnderTest,
  group: FleetGroup,
  bench: Bench,
) {
  await warmUp(bench.bus, bench.fleet, group, `${bench.runId}-${transport}`);
  const endWindow = await server.dispatchWindow();
  const cpuBefore = await cpuOfRun(server, group, bench.publisher);
  const { published, seconds: publishSeconds } = await bench.publisher.run(`${bench.runId}-${transport}-cmd`);
  const cpuAfter = await cpuOfRun(server, group, bench.publisher);
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
  return {
    commands_sent: published.size,
    commands_received: received,
    command_rate_per_second: Math.round(published.size / publishSeconds),
    dispatch_ms: { ...dispatch.ms, observed: dispatch.observed, source: dispatch.source },
    kafka_to_socket_ms: { ...quantilesOf(latencies.subarray(0, received)), samples: received },
    cpu_seconds_while_commands: cpuBetween(cpuBefore, cpuAfter, publishSeconds),
  };
}

const difference = (after: number | null, before: number | null) =>
  after === null || before === null ? null : after - before;

/**
 * CPU seconds each part of the run used in a window, against the machine's cores; `machine` is every
 * process's, so what it has beyond the parts ran beside the bench (other work on shared cores).
 */
function cpuBetween(before: Record<string, number>, after: Record<string, number>, windowSeconds: number) {
  return {
    window_seconds: Math.round(windowSeconds * 100) / 100,
    cores: availableParallelism(),
    ...Object.fromEntries(
      Object.entries(after).map(([part, value]) => [
        part,
        Math.round((value - (before[part] ?? value)) * 100) / 100,
      ]),
    ),
  };
}

/** The local stack's own processes, by the pid files `scripts/stack.sh` keeps. */
function stackPid(name: string): number | undefined {
  try {
    return Number(readFileSync(join(repoRoot, `.stack/run/${name}.pid`), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** CPU seconds so far of the server, the fleet, the publisher, this driver, and the broker, store and Redis. */
async function cpuOfRun(
  server: ServerUnderTest,
  group: FleetGroup,
  publisher: CommandPublisher,
): Promise<Record<string, number>> {
  const parts: Record<string, number> = {};
  const add = async (part: string, pids: (number | undefined)[]) => {
    let total = 0;
    for (const pid of pids) total += pid === undefined ? 0 : ((await cpuSeconds(pid)) ?? 0);
    parts[part] = total;
  };
  await add('server', [server.pid]);
  await add('fleet', group.pids);
  await add('publisher', [publisher.pid]);
  const own = process.cpuUsage();
  parts.driver = (own.user + own.system) / 1e6;
  await add('kafka', [stackPid('kafka')]);
  await add('redis', [stackPid('redis')]);
  await add('ferretdb', [stackPid('ferretdb')]);
  // What else ran on the machine meanwhile (other people's work on shared cores), as the rest of it.
  parts.machine = await machineBusySeconds();
  return parts;
}

type PhaseFigures = Awaited<ReturnType<typeof measure>>;

/** How a transport compares with the raw-TCP floor: its figure divided by the floor's. */
function versusFloor(figures: PhaseFigures | undefined, floor: PhaseFigures | undefined) {
  if (!figures || !floor) return undefined;
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || b === null || b === undefined || b === 0
      ? null
      : Math.round((a / b) * 100) / 100;
  return {
    rss_bytes_per_idle_connection: ratio(
      figures.rss_bytes_per_idle_connection,
      floor.rss_bytes_per_idle_connection,
    ),
    storm_accepts_per_second: ratio(figures.storm_accepts_per_second, floor.storm_accepts_per_second),
    kafka_to_socket_p99_ms: ratio(figures.kafka_to_socket_ms.p99, floor.kafka_to_socket_ms.p99),
  };
}

// ------------------------------------------------------------------------------------------------------ run

execFileSync('bash', [join(repoRoot, 'scripts/stack.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
const runId = uniqueId('gwbench');
const run: RunContext = { runId, databasePrefix: runId.replace(/-/g, '_'), topicPrefix: `${runId}.` };
const credentialsPath = join(tmpdir(), `${runId}-fleet.json`);
const enrollStartedAt = performance.now();
const fleet = await enrollFleet({
  mongoUri: stack.mongoUri,
  databasePrefix: run.databasePrefix,
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
  topicPrefix: run.topicPrefix,
});
await bus.connect();
// Created here with the gateway's partitions, so the floor (which creates nothing) finds them too.
await bus.ensureTopics(
  [topics.agentEvents, topics.commands, topics.commandResults].map((topic) => ({ topic, partitions })),
);

const results: Partial<Record<Transport, PhaseFigures | { error: string }>> = {};
const publisher = await startCommandPublisher(run, credentialsPath);
try {
  for (const transport of selected) {
    const start = (incarnation: number) =>
      transport === 'raw-tcp' ? startFloor(run) : startGateway(transport, run, incarnation);
    try {
      results[transport] = await measure(transport, start, { runId, bus, fleet, credentialsPath, publisher });
    } catch (error) {
      // One transport failing still leaves the others' figures.
      results[transport] = { error: error instanceof Error ? error.message : String(error) };
      progress(`${transport}: failed`, results[transport]);
    }
  }
} finally {
  await publisher.stop();
  await bus.disconnect();
  rmSync(credentialsPath, { force: true });
  await dropFleetDatabase(stack.mongoUri, run.databasePrefix);
  await removeRunState(run);
}

/** The run's topics and Redis keys: nothing of a bench run stays in the shared local stack. */
async function removeRunState({ runId: prefix, topicPrefix }: RunContext): Promise<void> {
  const redis = new Redis(stack.redisUrl);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
  const admin = new Kafka({ brokers: [...stack.kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const runTopics = (await admin.listTopics()).filter((topic) => topic.startsWith(topicPrefix));
    if (runTopics.length > 0) await admin.deleteTopics({ topics: runTopics });
  } finally {
    await admin.disconnect();
  }
}

const figures = (transport: Transport) => {
  const result = results[transport];
  return result && !('error' in result) ? result : undefined;
};
const websocket = figures('websocket');
const accepts = websocket?.storm_accepts_per_second ?? null;
const stormSeconds = websocket?.storm_seconds ?? null;
const authFailures = websocket ? websocket.storm_auth_failures : null;
const rssPerConnection = websocket?.rss_bytes_per_idle_connection ?? null;
const kafkaP99 = websocket?.kafka_to_socket_ms.p99 ?? null;
const stormComplete = websocket !== undefined && websocket.storm_agents_welcomed === agents;
const met = {
  accepts: accepts !== null && stormComplete && accepts >= targets.accepts_per_second,
  storm_seconds: stormSeconds !== null && stormComplete && stormSeconds <= targets.storm_seconds,
  auth_failures: authFailures !== null && authFailures <= targets.auth_failures,
  rss: rssPerConnection !== null && rssPerConnection <= targets.rss_bytes_per_idle_ws,
  kafka_to_socket:
    kafkaP99 !== null &&
    websocket !== undefined &&
    websocket.command_rate_per_second >= rate * 0.95 &&
    kafkaP99 <= targets.kafka_to_socket_p99_ms,
};
console.log(
  JSON.stringify({
    bench: 'gateway',
    agents,
    first_wave: firstWave,
    command_rate_per_second: rate,
    command_seconds: seconds,
    fd_limit: fdLimit,
    accepts_per_second: accepts,
    target_accepts_per_second: targets.accepts_per_second,
    met_accepts: met.accepts,
    storm_seconds: stormSeconds,
    target_storm_seconds: targets.storm_seconds,
    met_storm_seconds: met.storm_seconds,
    auth_failures: authFailures,
    target_auth_failures: targets.auth_failures,
    met_auth_failures: met.auth_failures,
    rss_bytes_per_idle_ws: rssPerConnection,
    target_rss_bytes_per_idle_ws: targets.rss_bytes_per_idle_ws,
    met_rss: met.rss,
    kafka_to_socket_p99_ms: kafkaP99,
    target_kafka_to_socket_p99_ms: targets.kafka_to_socket_p99_ms,
    met_kafka_to_socket: met.kafka_to_socket,
    met: Object.values(met).every(Boolean),
    websocket: results.websocket,
    grpc: results.grpc,
    raw_tcp: results['raw-tcp'],
    vs_raw_tcp: {
      websocket: versusFloor(websocket, figures('raw-tcp')),
      grpc: versusFloor(figures('grpc'), figures('raw-tcp')),
    },
  }),
);
process.exit(0);
