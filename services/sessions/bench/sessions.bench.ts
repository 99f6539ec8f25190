// `npm run bench:sessions`: concurrent maintenance sessions of ten software actions each against a simulated
// fleet, through the real sessions process, Kafka and the database as `npm start` runs them. A small run (100
// sessions) and a large one (SESSIONS_BENCH_SESSIONS, default 10,000) are measured alike; the figures are the
// sessions process's CPU per action, the database operations it sent per action (counted by its driver), and the
// orchestration turnaround per step (an agent's result out, the session's next command in) in both runs, to show
// whether latency grows with concurrency. Simulated scripts run SESSIONS_BENCH_SCRIPT_MS (default 15000-25000 ms,
// uniformly), as real ones take seconds to minutes; with instant scripts the run measures how fast the queue of
// every session's next step drains, not how long one step waits.
import { readFileSync } from 'node:fs';
import { computerChanged, topics } from '@converge/contracts';
import {
  getAccessToken,
  stack,
  startService,
  uniqueId,
  waitFor,
  type ServiceProcess,
} from '@converge/testing';
import { Kafka, logLevel } from 'kafkajs';
import { computerSnapshot, plannedSoftware, SimulatedFleet } from '../test/simulated-fleet.ts';

const actionsPerSession = 10;
const targets = { cpuMsPerAction: 1, latencyGrowth: 1.5, storeOperationsPerAction: 3, sessions: 10_000 };
const tenantId = 'tenant-contoso';
const largeRun = Number(process.env.SESSIONS_BENCH_SESSIONS ?? targets.sessions);
const smallRun = 100;
// The topics' partitions as `npm start` creates them (KAFKA_PARTITIONS' default).
const partitions = 12;
const [scriptMinMs = 15_000, scriptMaxMs = 25_000] = (process.env.SESSIONS_BENCH_SCRIPT_MS ?? '')
  .split('-')
  .filter((part) => part !== '')
  .map(Number);

/** Progress on stderr, so a long run shows where it is; stdout carries only the result line. */
function progress(message: string): void {
  process.stderr.write(`[bench:sessions] ${new Date().toISOString()} ${message}\n`);
}

/** CPU time (user + system) the process has used, in ms, from /proc. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Database commands the service has sent, from its Prometheus counter (the driver counts them). */
async function storeOperations(service: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('store_operations_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Waits until a consumer group has read everything on a topic (the service's projection caught up). */
async function caughtUp(groupId: string, topic: string): Promise<void> {
  const kafka = new Kafka({
    clientId: uniqueId('bench-admin'),
    brokers: stack.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const [ends, committed] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchOffsets({ groupId, topics: [topic] }),
        ]);
        const read = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
        return ends.every((end) => (read.get(end.partition) ?? -1) >= Number(end.high));
      },
      { timeoutMs: 600_000, intervalMs: 500 },
    );
  } finally {
    await admin.disconnect();
  }
}

interface RunFigures {
  sessions: number;
  passed: number;
  seconds: number;
  cpuMsPerAction: number;
  storeOperationsPerAction: number;
  sessionsPerMinute: number;
  p50TurnaroundMs: number;
  p99TurnaroundMs: number;
}

async function run(count: number): Promise<RunFigures> {
  const topicPrefix = `${uniqueId('sessions-bench')}.`;
  const databasePrefix = uniqueId('sessions_bench').replace(/-/g, '_');
  const fleet = new SimulatedFleet({
    topicPrefix,
    scriptMs: { min: scriptMinMs, max: scriptMaxMs },
    partitions,
  });
  await fleet.start();
  const service: ServiceProcess = await startService({
    entry: 'services/sessions/src/main.ts',
    name: 'sessions',
    env: {
      MONGO_DATABASE_PREFIX: databasePrefix,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      DEPLOYMENTS_GRPC_ADDRESS: fleet.grpcAddress,
      ...(process.env.SESSIONS_BENCH_PROFILE ? { NODE_OPTIONS: '--cpu-prof --cpu-prof-dir=/tmp/prof' } : {}),
    },
  });
  await fleet.watchStatuses();
  const token = await getAccessToken('tenant-admin');
  const items = Array.from({ length: actionsPerSession }, (_, index) => plannedSoftware(`item-${index}`));
  const computerIds: string[] = [];
  for (let index = 0; index < count; index++) {
    const computerId = `bench-computer-${String(index).padStart(6, '0')}`;
    computerIds.push(computerId);
    fleet.plans.set(computerId, items);
  }
  for (let from = 0; from < computerIds.length; from += 1000) {
    await fleet.publisher.publishMany(
      computerChanged,
      computerIds.slice(from, from + 1000).map((computerId) => ({
        subject: computerId,
        tenantId,
        data: computerSnapshot(computerId, tenantId),
      })),
    );
  }
  progress(`${count} sessions: computers published, waiting for the service's projection`);
  await caughtUp(`${databasePrefix}.sessions.computer-events`, `${topicPrefix}${topics.computerEvents}`);
  progress(`${count} sessions: starting them`);

  const cpuBefore = cpuMsOf(service.child.pid ?? 0);
  const operationsBefore = await storeOperations(service);
  const started = performance.now();
  const sessionIds = new Set<string>();
  for (let from = 0; from < computerIds.length; from += 1000) {
    const response = await fetch(`${service.baseUrl}/api/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ computerIds: computerIds.slice(from, from + 1000), kind: 'full' }),
    });
    const outcome = (await response.json()) as { started: { sessionId: string }[] };
    for (const { sessionId } of outcome.started) sessionIds.add(sessionId);
  }
  progress(`${count} sessions: ${sessionIds.size} started, waiting for them to finish`);
  const reporter = setInterval(() => {
    const finished = [...sessionIds].filter((id) => fleet.finished().has(id)).length;
    progress(`${count} sessions: ${finished} finished, ${fleet.runs.length} scripts run`);
    for (const line of service.logs.splice(0)) {
      if (line.level === 'warn' || line.level === 'error') progress(`service: ${JSON.stringify(line)}`);
    }
  }, 10_000);
  await waitFor(() => [...sessionIds].every((id) => fleet.finished().has(id)), {
    timeoutMs: 6 * 3_600_000,
    intervalMs: 500,
  });
  clearInterval(reporter);
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = cpuMsOf(service.child.pid ?? 0) - cpuBefore;
  const operations = (await storeOperations(service)) - operationsBefore;
  const passed = [...sessionIds].filter((id) => fleet.finished().get(id) === 'passed').length;
  const turnarounds = fleet.turnaroundsMs().sort((a, b) => a - b);
  await service.stop();
  await fleet.stop();
  const actions = sessionIds.size * actionsPerSession;
  return {
    sessions: sessionIds.size,
    passed,
    seconds,
    cpuMsPerAction: cpuMs / actions,
    storeOperationsPerAction: operations / actions,
    sessionsPerMinute: (sessionIds.size / seconds) * 60,
    p50TurnaroundMs: percentile(turnarounds, 50),
    p99TurnaroundMs: percentile(turnarounds, 99),
  };
}

const small = await run(smallRun);
const large = await run(largeRun);
const round = (value: number, digits = 2) => Number(value.toFixed(digits));
const latencyGrowth = large.p50TurnaroundMs / Math.max(1, small.p50TurnaroundMs);
const met = {
  cpu: large.cpuMsPerAction < targets.cpuMsPerAction,
  latency: latencyGrowth <= targets.latencyGrowth,
  store_operations: large.storeOperationsPerAction <= targets.storeOperationsPerAction,
  sessions: large.sessions >= targets.sessions && large.passed === large.sessions,
};
console.log(
  JSON.stringify({
    bench: 'sessions',
    actions_per_session: actionsPerSession,
    script_ms: [scriptMinMs, scriptMaxMs],
    sessions: large.sessions,
    passed: large.passed,
    seconds: round(large.seconds),
    sessions_per_minute: round(large.sessionsPerMinute, 1),
    cpu_ms_per_action: round(large.cpuMsPerAction, 3),
    target_cpu_ms_per_action: targets.cpuMsPerAction,
    store_operations_per_action: round(large.storeOperationsPerAction, 3),
    target_store_operations_per_action: targets.storeOperationsPerAction,
    turnaround_p50_ms: round(large.p50TurnaroundMs, 1),
    turnaround_p99_ms: round(large.p99TurnaroundMs, 1),
    small_run_sessions: small.sessions,
    small_run_passed: small.passed,
    small_run_turnaround_p50_ms: round(small.p50TurnaroundMs, 1),
    small_run_turnaround_p99_ms: round(small.p99TurnaroundMs, 1),
    small_run_cpu_ms_per_action: round(small.cpuMsPerAction, 3),
    small_run_store_operations_per_action: round(small.storeOperationsPerAction, 3),
    latency_growth: round(latencyGrowth),
    target_latency_growth: targets.latencyGrowth,
    target_sessions: targets.sessions,
    met_cpu: met.cpu,
    met_latency: met.latency,
    met_store_operations: met.store_operations,
    met_sessions: met.sessions,
    met: Object.values(met).every(Boolean),
  }),
);
