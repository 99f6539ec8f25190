// `npm run bench:sessions`: concurrent maintenance sessions of ten actions each against a simulated fleet, through
// the real sessions process, Kafka and the database. Reports the sessions process's CPU per action, sessions per
// minute, and the orchestration turnaround per step (an agent's result in, the session's next command out) at a
// small and a large number of concurrent sessions, to show whether latency grows with concurrency.
// SESSIONS_BENCH_SESSIONS (default 300) sets the large run; the issue's target run is 10,000.
import { readFileSync } from 'node:fs';
import { computerChanged } from '@converge/contracts';
import { getAccessToken, startService, uniqueId, waitFor, type ServiceProcess } from '@converge/testing';
import { computerSnapshot, plannedSoftware, SimulatedFleet } from '../test/simulated-fleet.ts';

const actionsPerSession = 10;
const targetCpuMsPerAction = 1;
const tenantId = 'tenant-contoso';
const largeRun = Number(process.env.SESSIONS_BENCH_SESSIONS ?? 300);
const smallRun = Math.max(10, Math.round(largeRun / 10));

/** CPU time (user + system) the process has used, in ms, from /proc. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface RunFigures {
  sessions: number;
  seconds: number;
  cpuMsPerAction: number;
  sessionsPerMinute: number;
  p50TurnaroundMs: number;
  p99TurnaroundMs: number;
  passed: number;
}

async function run(count: number): Promise<RunFigures> {
  const topicPrefix = `${uniqueId('sessions-bench')}.`;
  const fleet = new SimulatedFleet({ topicPrefix });
  await fleet.start();
  const service: ServiceProcess = await startService({
    entry: 'services/sessions/src/main.ts',
    name: 'sessions',
    env: {
      MONGO_DATABASE_PREFIX: uniqueId('sessions_bench').replace(/-/g, '_'),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      DEPLOYMENTS_GRPC_ADDRESS: fleet.grpcAddress,
      ...(process.env.SESSIONS_BENCH_PROFILE ? { NODE_OPTIONS: '--cpu-prof --cpu-prof-dir=/tmp/prof' } : {}),
    },
  });
  const token = await getAccessToken('tenant-admin');
  const items = Array.from({ length: actionsPerSession }, (_, index) => plannedSoftware(`item-${index}`));
  const computerIds: string[] = [];
  for (let index = 0; index < count; index++) {
    const computerId = `bench-computer-${String(index).padStart(6, '0')}`;
    computerIds.push(computerId);
    fleet.plans.set(computerId, items);
  }
  await fleet.publisher.publishMany(
    computerChanged,
    computerIds.map((computerId) => ({
      subject: computerId,
      tenantId,
      data: computerSnapshot(computerId, tenantId),
    })),
  );
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${service.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as {
      started?: unknown[];
      items?: { status: string }[];
      nextCursor?: string | null;
    };
  };
  const cpuBefore = cpuMsOf(service.child.pid ?? 0);
  const started = performance.now();
  // The computers reach the projection through Kafka: start in chunks (the API takes 1,000 ids at most), and
  // again for those not known yet.
  let waiting = computerIds;
  let startedCount = 0;
  while (waiting.length > 0) {
    const next: string[] = [];
    for (let from = 0; from < waiting.length; from += 1000) {
      const outcome = (await api('POST', '/sessions', {
        computerIds: waiting.slice(from, from + 1000),
        kind: 'full',
      })) as {
        started: unknown[];
        skipped: { computerId: string }[];
      };
      startedCount += outcome.started.length;
      next.push(...outcome.skipped.map((skip) => skip.computerId));
    }
    waiting = next;
    if (waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const expectedCommands = startedCount * actionsPerSession * 3;
  await waitFor(() => fleet.runs.length >= expectedCommands, { timeoutMs: 3_600_000, intervalMs: 250 });
  // The last verification result still has to be applied: wait until no session is unfinished.
  await waitFor(
    async () => {
      for (const status of ['created', 'running', 'pending', 'pending-connectivity']) {
        const page = await api('GET', `/sessions?status=${status}&limit=1`);
        if ((page.items?.length ?? 0) > 0) return false;
      }
      return true;
    },
    { timeoutMs: 600_000, intervalMs: 250 },
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = cpuMsOf(service.child.pid ?? 0) - cpuBefore;
  let passed = 0;
  let cursor: string | null | undefined;
  do {
    const page = await api('GET', `/sessions?status=passed&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    passed += page.items?.length ?? 0;
    cursor = page.nextCursor;
  } while (cursor);
  const turnarounds = fleet.turnaroundsMs().sort((a, b) => a - b);
  await service.stop();
  await fleet.stop();
  return {
    sessions: startedCount,
    seconds,
    cpuMsPerAction: cpuMs / (startedCount * actionsPerSession),
    sessionsPerMinute: (startedCount / seconds) * 60,
    p50TurnaroundMs: percentile(turnarounds, 50),
    p99TurnaroundMs: percentile(turnarounds, 99),
    passed,
  };
}

const small = await run(smallRun);
const large = await run(largeRun);
const round = (value: number, digits = 2) => Number(value.toFixed(digits));
const latencyGrowth = large.p50TurnaroundMs / Math.max(1, small.p50TurnaroundMs);
// "No growth": the median step turnaround at the large run within twice the small run's.
const metLatency = latencyGrowth <= 2;
const metCpu = large.cpuMsPerAction <= targetCpuMsPerAction;
console.log(
  JSON.stringify({
    bench: 'sessions',
    actions_per_session: actionsPerSession,
    sessions: large.sessions,
    passed: large.passed,
    seconds: round(large.seconds),
    sessions_per_minute: round(large.sessionsPerMinute, 1),
    cpu_ms_per_action: round(large.cpuMsPerAction, 3),
    target_cpu_ms_per_action: targetCpuMsPerAction,
    met_cpu: metCpu,
    turnaround_p50_ms: round(large.p50TurnaroundMs, 1),
    turnaround_p99_ms: round(large.p99TurnaroundMs, 1),
    small_run_sessions: small.sessions,
    small_run_turnaround_p50_ms: round(small.p50TurnaroundMs, 1),
    small_run_turnaround_p99_ms: round(small.p99TurnaroundMs, 1),
    small_run_cpu_ms_per_action: round(small.cpuMsPerAction, 3),
    latency_growth: round(latencyGrowth),
    met_latency: metLatency,
    target_sessions: 10_000,
    met_sessions: large.sessions >= 10_000,
    met: metCpu && metLatency && large.sessions >= 10_000,
  }),
);
