// Several sessions replicas sharing the sessions' partitions (docs/architecture.md §9): a replica that dies hands
// its sessions over, and a replica that was paused past its consumer session cannot write what it did after losing
// them. The simulated fleet counts every script it runs, so a command sent twice shows.
import { afterEach, describe, expect, it } from '@jest/globals';
import { computerChanged } from '@converge/contracts';
import { connectMongo } from '@converge/store';
import { createLogger } from '@converge/telemetry';
import {
  getAccessToken,
  stack,
  startService,
  uniqueId,
  waitFor,
  type ServiceProcess,
} from '@converge/testing';
import type { Connection } from 'mongoose';
import { computerSnapshot, plannedSoftware, SimulatedFleet } from './simulated-fleet.ts';

const tenantId = 'tenant-contoso';
const items = [plannedSoftware('pm'), plannedSoftware('reader'), plannedSoftware('editor')];
// Detect, install and verify per item.
const scriptsPerSession = items.length * 3;

interface Installation {
  fleet: SimulatedFleet;
  replicas: ServiceProcess[];
  mongo: Connection;
  token: string;
  computers: string[];
}

let installation: Installation | undefined;

async function install(
  computerCount: number,
  fleetOptions: { scriptMs: { min: number; max: number }; planDelayMs?: number },
): Promise<Installation> {
  const run = uniqueId('replicas');
  const topicPrefix = `${run}.`;
  const databasePrefix = run.replace(/-/g, '_');
  const fleet = new SimulatedFleet({ topicPrefix, ...fleetOptions });
  await fleet.start();
  const start = () =>
    startService({
      entry: 'services/sessions/src/main.ts',
      name: 'sessions',
      env: {
        MONGO_DATABASE_PREFIX: databasePrefix,
        KAFKA_TOPIC_PREFIX: topicPrefix,
        DEPLOYMENTS_GRPC_ADDRESS: fleet.grpcAddress,
        SESSION_TICK_INTERVAL: '200ms',
      },
    });
  const replicas = await Promise.all([start(), start()]);
  await fleet.watchStatuses();
  const computers = Array.from({ length: computerCount }, (_, index) => `${run}-pc-${index}`);
  for (const computerId of computers) fleet.plans.set(computerId, items);
  await fleet.publisher.publishMany(
    computerChanged,
    computers.map((computerId) => ({
      subject: computerId,
      tenantId,
      data: computerSnapshot(computerId, tenantId),
    })),
  );
  const mongo = await connectMongo({
    uri: stack.mongoUri,
    dbName: `${databasePrefix}_sessions`,
    logger: createLogger({ service: 'replicas-test', level: 'silent' }),
  });
  installation = { fleet, replicas, mongo, token: await getAccessToken('tenant-admin'), computers };
  return installation;
}

/** Starts a session on each computer through the first replica's API; the computers reach it through Kafka. */
async function startSessions(target: Installation, computers = target.computers): Promise<string[]> {
  const sessionIds: string[] = [];
  let waiting = computers;
  await waitFor(
    async () => {
      const response = await fetch(`${target.replicas[0]?.baseUrl ?? ''}/api/v1/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ computerIds: waiting, kind: 'full' }),
      });
      const outcome = (await response.json()) as {
        started: { sessionId: string }[];
        skipped: { computerId: string }[];
      };
      sessionIds.push(...outcome.started.map((started) => started.sessionId));
      waiting = outcome.skipped.map((skipped) => skipped.computerId);
      return waiting.length === 0;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  return sessionIds;
}

/** Every session passed, every script ran exactly once, and what is stored is what was last published. */
async function expectCompleteAndExact(target: Installation, sessionIds: string[]): Promise<void> {
  const { fleet, mongo } = target;
  await waitFor(() => sessionIds.every((id) => fleet.finished().has(id)), {
    timeoutMs: 240_000,
    intervalMs: 500,
  });
  expect(sessionIds.filter((id) => fleet.finished().get(id) !== 'passed')).toEqual([]);
  const ours = new Set(sessionIds);
  const ran = fleet.runs.filter((commandId) => ours.has(commandId.slice(0, commandId.indexOf(':'))));
  expect(new Set(ran).size).toBe(ran.length);
  expect(ran).toHaveLength(sessionIds.length * scriptsPerSession);
  // No update lost: each stored session is at the version of the last event it published, and passed.
  const docs = await mongo.db
    ?.collection<{ _id: string; status: string; state: string }>('sessions')
    .find({ _id: { $in: sessionIds } })
    .toArray();
  expect(docs).toHaveLength(sessionIds.length);
  for (const doc of docs ?? []) {
    const state = JSON.parse(doc.state) as { version: number; status: string };
    expect({ id: doc._id, status: doc.status, version: state.version }).toEqual({
      id: doc._id,
      status: 'passed',
      version: fleet.finalVersions().get(doc._id),
    });
  }
}

afterEach(async () => {
  if (installation === undefined) return;
  const { fleet, replicas, mongo } = installation;
  installation = undefined;
  for (const replica of replicas) {
    if (replica.child.exitCode === null) replica.child.kill('SIGCONT');
    await replica.stop();
  }
  await fleet.stop();
  await mongo.dropDatabase();
  await mongo.close();
});

describe('two sessions replicas', () => {
  it('finish every session when one is SIGKILLed in the middle of 200, running no script twice', async () => {
    const target = await install(200, { scriptMs: { min: 200, max: 500 } });
    const sessionIds = await startSessions(target);
    expect(sessionIds).toHaveLength(200);
    await waitFor(() => target.fleet.runs.length >= 600, { timeoutMs: 120_000, intervalMs: 100 });
    await target.replicas[1]?.kill();
    await expectCompleteAndExact(target, sessionIds);
  }, 400_000);

  it('refuse the writes of a replica paused past its consumer session, and lose nothing it did before', async () => {
    // Plans come 4 s after they are asked for: the second wave's are still on their way when a replica pauses,
    // so the paused replica applies them, and tries to write, as soon as it runs again.
    const target = await install(60, { scriptMs: { min: 1_000, max: 2_500 }, planDelayMs: 4_000 });
    const firstWave = await startSessions(target, target.computers.slice(0, 30));
    const [survivor, paused] = target.replicas as [ServiceProcess, ServiceProcess];
    await waitFor(() => target.fleet.runs.length >= 60, { timeoutMs: 120_000, intervalMs: 100 });
    const secondWave = await startSessions(target, target.computers.slice(30));
    const sessionIds = [...firstWave, ...secondWave];
    const loadedBefore = survivor.logs.length;
    paused.child.kill('SIGSTOP');
    // Its consumer session (10 s) lapses; the survivor takes its partitions over, with newer fences.
    await waitFor(() => survivor.logs.slice(loadedBefore).some((line) => line.msg === 'sessions loaded'), {
      timeoutMs: 60_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    paused.child.kill('SIGCONT');
    await paused.waitForLog(
      (line) => line.msg === 'a newer owner holds the partition; paused until reassigned',
      60_000,
    );
    await expectCompleteAndExact(target, sessionIds);
  }, 400_000);
});
