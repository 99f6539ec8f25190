// Two identity replicas share the owners' partitions (docs/architecture.md §9). A replica that dies hands its
// partitions to the other after the group's session timeout, which goes on from the last committed offsets and
// sends again what was stored but not sent; a replica paused past that timeout comes back unable to write: the
// fence refuses its batch.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { AgentFactsReported } from '@converge/contracts';
import type { FenceDocument } from '@converge/store';
import { stack } from '@converge/testing';
import mongoose from 'mongoose';
import { eventually, machineFacts, startHarness, type Harness } from './identity-harness.ts';

interface StoredComputer {
  _id: string;
  version: number;
  hardwareUuid: string | null;
  hostname: string;
  agents: { agentId: string; factsVersion: number }[];
  history: { event: string; agentId: string | null }[];
}

const partitions = 6;
const started: Harness[] = [];
const connections: mongoose.Connection[] = [];

afterEach(async () => {
  for (const harness of started.splice(0)) {
    // A paused replica handles no signal but SIGCONT.
    for (const replica of harness.services) replica.child.kill('SIGCONT');
    await harness.stop();
  }
  for (const conn of connections.splice(0)) {
    await conn.dropDatabase();
    await conn.close();
  }
});

/** Two replicas, each owning some partitions, and the run's database to check what they stored. */
async function twoReplicas(env: Record<string, string> = {}) {
  const harness = await startHarness(env, { replicas: 2, partitions });
  started.push(harness);
  for (const replica of harness.services) {
    await replica.waitForLog((line) => line.msg === 'computers of the partition taken over', 30_000);
  }
  const conn = await mongoose.createConnection(stack.mongoUri, { dbName: harness.databaseName }).asPromise();
  connections.push(conn);
  const collection = conn.collection<{ _id: string }>('computers');
  const computers = async () =>
    (await collection.find({ identityKey: { $exists: true } }).toArray()) as unknown as StoredComputer[];
  // The owners' fences of the computers' partitions, beside the computers.
  const fences = async () =>
    (await collection.find({ _id: { $regex: '^fence:' } }).toArray()) as unknown as FenceDocument[];
  return { harness, computers, fences };
}

/** The machines' agents: a converge agent and a second RMM's on each. */
function agentsOf(machines: readonly AgentFactsReported[]): AgentFactsReported[] {
  return machines.flatMap((facts) => [
    facts,
    { ...facts, agentId: `automate-${randomUUID()}`, provider: 'cw-automate' },
  ]);
}

async function publish(harness: Harness, reports: readonly AgentFactsReported[]): Promise<void> {
  for (let start = 0; start < reports.length; start += 500) {
    await harness.publishMany(reports.slice(start, start + 500));
  }
}

/**
 * Every machine has one computer, holding exactly its agents at `version`, created once and each agent attached
 * once; every agent is on one computer only.
 */
function expectOneComputerPerMachine(
  computers: readonly StoredComputer[],
  agents: readonly AgentFactsReported[],
  version: number,
): void {
  const byMachine = new Map<string, StoredComputer[]>();
  for (const computer of computers) {
    byMachine.set(computer.hardwareUuid ?? '', [
      ...(byMachine.get(computer.hardwareUuid ?? '') ?? []),
      computer,
    ]);
  }
  const machines = new Set(agents.map((facts) => (facts.hardwareUuid ?? '').toLowerCase()));
  expect(byMachine.size).toBe(machines.size);
  const attached = computers.flatMap((computer) => computer.agents.map((agent) => agent.agentId));
  expect(attached.sort()).toEqual(agents.map((facts) => facts.agentId).sort());
  for (const uuid of machines) {
    const [computer, ...others] = byMachine.get(uuid) ?? [];
    expect(others).toEqual([]);
    const expected = agents.filter((facts) => (facts.hardwareUuid ?? '').toLowerCase() === uuid);
    expect(computer?.agents.map((agent) => agent.factsVersion)).toEqual(expected.map(() => version));
    const identifications = computer?.history.filter((entry) => entry.event !== 'wiped') ?? [];
    expect(identifications.map((entry) => entry.event).sort()).toEqual(
      ['created', 'agent-attached', 'agent-attached', 'agent-attached'].slice(0, expected.length).sort(),
    );
    expect(new Set(identifications.map((entry) => entry.agentId)).size).toBe(expected.length);
  }
}

/** Each agent was identified once (a re-send after a crash keeps the event's id) and the last snapshot is stored. */
function expectEventsOnce(harness: Harness, computers: readonly StoredComputer[]): void {
  const identified = new Map<string, Set<string>>();
  const versions = new Map<string, number>();
  for (const event of harness.computerEvents) {
    if (event.type === 'converge.computer.identified.v1') {
      const agentId = String(event.data.agentId);
      identified.set(agentId, (identified.get(agentId) ?? new Set()).add(event.id));
    } else if (event.type === 'converge.computer.changed.v1') {
      versions.set(event.subject, Math.max(versions.get(event.subject) ?? 0, Number(event.data.version)));
    }
  }
  for (const computer of computers) {
    for (const agent of computer.agents) expect(identified.get(agent.agentId)?.size).toBe(1);
    expect(versions.get(computer._id)).toBe(computer.version);
  }
}

describe('two identity replicas', () => {
  it('lose no identification and decide none twice when one is killed in the middle of 2,000', async () => {
    const { harness, computers } = await twoReplicas();
    const agents = agentsOf(Array.from({ length: 1_000 }, () => machineFacts()));
    // Every agent reports twice: the second report renames the machine, an update that must not be lost.
    const renamed = agents.map((facts) => ({ ...facts, version: 2, hostname: `${facts.hostname}-renamed` }));
    await publish(harness, agents);
    await publish(harness, renamed);
    await eventually(async () => ((await computers()).length >= 300 ? true : undefined), 60_000);
    const [crashing] = harness.services;
    await crashing?.kill();

    const stored = await eventually(async () => {
      const found = await computers();
      const done = found.filter(
        (computer) => computer.agents.length === 2 && computer.hostname.endsWith('-renamed'),
      );
      return done.length === 1_000 && found.every((c) => c.agents.every((a) => a.factsVersion === 2))
        ? found
        : undefined;
    }, 90_000);
    expectOneComputerPerMachine(stored, renamed, 2);
    await eventually(() => {
      try {
        expectEventsOnce(harness, stored);
        return true;
      } catch {
        return undefined;
      }
    }, 30_000);
    expectEventsOnce(harness, stored);
  }, 180_000);

  it('refuse, by the fence, the writes of a replica paused past its session timeout', async () => {
    // Debug: the replicas log each batch they decided, before they store it.
    const { harness, computers, fences } = await twoReplicas({ LOG_LEVEL: 'debug' });
    const [stale, current] = harness.services;
    if (stale === undefined || current === undefined) throw new Error('two replicas expected');
    const ownedBy = (replica: typeof stale, owned: readonly FenceDocument[]) =>
      owned.filter((fence) => fence.owner.startsWith(`${String(replica.child.pid)}-`));
    const machines = Array.from({ length: 1_200 }, () => machineFacts());
    await publish(harness, machines);
    await eventually(async () => ((await computers()).length === machines.length ? true : undefined), 60_000);
    const before = await eventually(async () => {
      const owned = await fences();
      return owned.length === partitions && ownedBy(stale, owned).length > 0 ? owned : undefined;
    }, 30_000);

    // Every machine is renamed: batches of updates, which the paused replica is caught deciding.
    const renamed = machines.map((facts) => ({
      ...facts,
      version: 2,
      hostname: `${facts.hostname}-renamed`,
    }));
    const from = stale.logs.length;
    await publish(harness, renamed);
    await stale.waitForLog(
      (line) =>
        line.msg === 'batch decided' && Number(line.computers) >= 20 && stale.logs.indexOf(line) >= from,
      30_000,
    );
    process.kill(stale.child.pid ?? 0, 'SIGSTOP');
    // Past the 10 s session timeout, the other replica takes the paused one's partitions over, each with a newer
    // token, and decides their batches again from the last committed offsets.
    const after = await eventually(async () => {
      const owned = await fences();
      return ownedBy(current, owned).length === partitions ? owned : undefined;
    }, 40_000);
    for (const fence of ownedBy(stale, before)) {
      expect(after.find((taken) => taken._id === fence._id)?.fence).toBeGreaterThan(fence.fence);
    }
    process.kill(stale.child.pid ?? 0, 'SIGCONT');
    const refused = await stale.waitForLog(
      (line) => line.msg === 'a newer owner holds the partition; paused until reassigned',
      20_000,
    );
    expect(ownedBy(stale, before).map((fence) => fence._id)).toContainEqual(
      expect.stringMatching(new RegExp(`:${String(refused.partition)}$`)),
    );

    const stored = await eventually(async () => {
      const found = await computers();
      return found.filter((computer) => computer.hostname.endsWith('-renamed')).length === machines.length
        ? found
        : undefined;
    }, 60_000);
    // Each computer was created and renamed once: nothing of the refused batch was stored twice or lost.
    expectOneComputerPerMachine(stored, renamed, 2);
    expect(stored.map((computer) => computer.version)).toEqual(stored.map(() => 2));
    await eventually(() => {
      try {
        expectEventsOnce(harness, stored);
        return true;
      } catch {
        return undefined;
      }
    }, 30_000);
  }, 180_000);
});
