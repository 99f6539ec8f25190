import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sessionStatusChanged } from '@converge/contracts';
import { eventually, machineFacts, startHarness, type Harness } from './identity-harness.ts';

interface Computer {
  id: string;
  tenantId: string;
  version: number;
  hardwareUuid: string | null;
  onboardingStatus: string;
  online: boolean;
  primaryPersonId: string | null;
  agents: { agentId: string; provider: string; online: boolean }[];
  history: { event: string }[];
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface PendingDecision {
  agentId: string;
  candidates: { computerId: string; existingAgentId: string | null }[];
}
interface Failure {
  agentId: string;
  failure: { reason: string };
  attempts: number;
}

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.stop();
});

async function computersWithUuid(uuid: string, role: 'msp-admin' = 'msp-admin'): Promise<Computer[]> {
  const { body } = await harness.api(role, 'GET', `/computers?search=${uuid}`);
  return (body as Page<Computer>).items;
}

/** Waits until the UUID's computers satisfy `done`, and returns them. */
async function untilComputers(uuid: string, done: (computers: Computer[]) => boolean): Promise<Computer[]> {
  return eventually(async () => {
    const computers = await computersWithUuid(uuid);
    return done(computers) ? computers : undefined;
  }, 15_000);
}

async function details(id: string): Promise<Computer> {
  return (await harness.api('msp-admin', 'GET', `/computers/${id}`)).body as Computer;
}

async function pendingFor(agentId: string): Promise<PendingDecision> {
  return eventually(async () => {
    const { body } = await harness.api('msp-admin', 'GET', '/identification/pending-decisions?limit=200');
    return (body as Page<PendingDecision>).items.find((item) => item.agentId === agentId);
  }, 15_000);
}

async function failureFor(agentId: string): Promise<Failure> {
  return eventually(async () => {
    const { body } = await harness.api('msp-admin', 'GET', '/identification/failures?limit=200');
    return (body as Page<Failure>).items.find((item) => item.agentId === agentId);
  }, 15_000);
}

describe('identification through agent facts events', () => {
  it('creates a new machine in its agent tenant, waiting for onboarding, and publishes its events', async () => {
    const facts = machineFacts();
    await harness.publishFacts(facts);
    const [computer] = await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    expect(computer).toMatchObject({
      tenantId: 'tenant-contoso',
      hardwareUuid: facts.hardwareUuid?.toLowerCase(),
      onboardingStatus: 'needs-onboarding',
      agents: [{ agentId: facts.agentId, provider: 'converge' }],
    });
    const id = computer?.id ?? '';
    const types = await eventually(() => {
      const seen = harness.computerEvents.filter((event) => event.subject === id).map((event) => event.type);
      return seen.length >= 3 ? seen : undefined;
    }, 15_000);
    expect(types.sort()).toEqual([
      'converge.computer.changed.v1',
      'converge.computer.identified.v1',
      'converge.computer.onboarding-status-changed.v1',
    ]);
  });

  it('attaches the same machine seen through a second provider to the same computer', async () => {
    const facts = machineFacts();
    await harness.publishFacts(facts);
    await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    const rmm = { ...facts, agentId: `automate-${randomUUID()}`, provider: 'cw-automate' };
    // Another RMM formats the SMBIOS UUID its own way.
    await harness.publishFacts({ ...rmm, hardwareUuid: `{${(facts.hardwareUuid ?? '').toLowerCase()}}` });
    const [computer] = await untilComputers(
      facts.hardwareUuid ?? '',
      (found) => found.length === 1 && found[0]?.agents.length === 2,
    );
    expect(computer?.agents.map((agent) => agent.provider).sort()).toEqual(['converge', 'cw-automate']);
  });

  it('keeps a wiped machine and sets it back to needs onboarding', async () => {
    const facts = machineFacts();
    await harness.publishFacts(facts);
    const [created] = await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    const id = created?.id ?? '';
    const skipped = await harness.api('msp-admin', 'POST', `/computers/${id}/onboarding/skip`);
    expect(skipped.body).toMatchObject({ onboardingStatus: 'onboarded' });
    await harness.publishFacts({ ...facts, version: 2, osInstallId: randomUUID() });
    const [wiped] = await untilComputers(
      facts.hardwareUuid ?? '',
      (found) => found[0]?.onboardingStatus === 'needs-onboarding',
    );
    expect(wiped?.id).toBe(id);
    expect((await details(id)).history.map((entry) => entry.event)).toContain('wiped');
  });

  it('follows the onboarding session: onboarded when it passes, even with nothing to run', async () => {
    const facts = machineFacts();
    await harness.publishFacts(facts);
    const [created] = await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    expect(created?.onboardingStatus).toBe('needs-onboarding');
    const id = created?.id ?? '';
    // A session with an empty plan goes from created to passed in one step: no `running` status comes first.
    const passed = {
      sessionId: randomUUID(),
      computerId: id,
      tenantId: facts.tenantId,
      version: 2,
      status: 'passed' as const,
      previousStatus: 'created' as const,
      kind: 'onboarding' as const,
      stage: 'report' as const,
      changedAt: new Date().toISOString(),
    };
    await harness.bus.publish(sessionStatusChanged, {
      subject: passed.sessionId,
      tenantId: facts.tenantId,
      data: passed,
    });
    await harness.bus.publish(sessionStatusChanged, {
      subject: passed.sessionId,
      tenantId: facts.tenantId,
      data: passed,
    });
    const [onboarded] = await untilComputers(
      facts.hardwareUuid ?? '',
      (found) => found[0]?.onboardingStatus === 'onboarded',
    );
    expect(onboarded?.id).toBe(id);
  });

  it('fails a known-bad UUID of an untrusted manufacturer, and retrying records another attempt', async () => {
    const facts = machineFacts({
      hardwareUuid: '03000200-0400-0500-0006-000700080009',
      manufacturer: 'Generic Boards Ltd',
    });
    await harness.publishFacts(facts);
    const failure = await failureFor(facts.agentId);
    expect(failure).toMatchObject({ failure: { reason: 'no-usable-identifier' }, attempts: 1 });
    const retried = await harness.api('msp-admin', 'POST', `/identification/failures/${facts.agentId}/retry`);
    expect(retried).toMatchObject({ status: 200, body: { kind: 'failed' } });
    expect(await failureFor(facts.agentId)).toMatchObject({ attempts: 2 });
    const all = await harness.api('msp-admin', 'POST', '/identification/failures/retry-all');
    expect(all.status).toBe(200);
  });

  it('keeps the computer of a machine whose hardware UUID changed, and attaches a new agent of it there', async () => {
    const facts = machineFacts();
    await harness.publishFacts(facts);
    const [created] = await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    // A mainboard swap: the computer's identity key changes, so another key's owner decides on it from now on.
    const swapped = randomUUID().toUpperCase();
    await harness.publishFacts({ ...facts, version: 2, hardwareUuid: swapped });
    const [moved] = await untilComputers(swapped, (found) => found.length === 1);
    expect(moved?.id).toBe(created?.id);
    expect(await computersWithUuid(facts.hardwareUuid ?? '')).toEqual([]);
    const rmm = {
      ...facts,
      agentId: `automate-${randomUUID()}`,
      provider: 'cw-automate',
      hardwareUuid: swapped,
    };
    await harness.publishFacts(rmm);
    await harness.publishFacts({ ...facts, version: 3, hardwareUuid: swapped, hostname: 'SWAPPED' });
    const [attached] = await untilComputers(
      swapped,
      (found) => found[0]?.agents.length === 2 && found[0].version >= 4,
    );
    expect(attached?.id).toBe(created?.id);
    expect((await details(attached?.id ?? '')).history.map((entry) => entry.event)).toEqual([
      'created',
      'hardware-uuid-changed',
      'agent-attached',
    ]);
  });

  it('identifies a known-bad UUID by serial number when the manufacturer is trusted', async () => {
    const facts = machineFacts({ hardwareUuid: '00000000-0000-0000-0000-000000000000' });
    await harness.publishFacts(facts);
    const found = await eventually(async () => {
      const { body } = await harness.api('msp-admin', 'GET', `/computers?search=${facts.serialNumber ?? ''}`);
      return (body as Page<Computer>).items[0];
    }, 15_000);
    expect(found).toMatchObject({ hardwareUuid: null, agents: [{ agentId: facts.agentId }] });
  });

  it('changes nothing when facts are redelivered or arrive out of order', async () => {
    const facts = machineFacts();
    const eventId = randomUUID();
    await harness.publishFacts({ ...facts, version: 5 }, eventId);
    const [computer] = await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    await harness.publishFacts({ ...facts, version: 5 }, eventId);
    await harness.publishFacts({ ...facts, version: 4, hostname: 'OLDER' });
    // A newer report after them is the marker that they have been handled.
    await harness.publishFacts({ ...facts, agentId: `marker-${randomUUID()}`, provider: 'marker' });
    const [after] = await untilComputers(facts.hardwareUuid ?? '', (found) => found[0]?.agents.length === 2);
    expect(after?.version).toBe((computer?.version ?? 0) + 1);
    expect(
      (await details(after?.id ?? '')).history.filter((entry) => entry.event === 'created'),
    ).toHaveLength(1);
  });

  it('makes a computer online when one of its agents connects', async () => {
    const facts = machineFacts();
    await harness.connectAgent(facts.agentId, facts.tenantId, 1);
    await harness.publishFacts(facts);
    const [computer] = await untilComputers(facts.hardwareUuid ?? '', (found) => found[0]?.online === true);
    expect(computer?.agents[0]?.online).toBe(true);
  });

  it('infers the primary person from the directory', async () => {
    const facts = machineFacts({ tenantId: 'tenant-affinity', loggedOnUpns: ['Dana@Affinity.example'] });
    await harness.publishFacts(facts);
    await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    await harness.upsertPerson('tenant-affinity', 'person-dana', 'dana@affinity.example', 1);
    const [computer] = await untilComputers(
      facts.hardwareUuid ?? '',
      (found) => found[0]?.primaryPersonId === 'person-dana',
    );
    expect(computer?.primaryPersonId).toBe('person-dana');
  });

  it('creates computers onboarded in a tenant with onboarding turned off', async () => {
    await harness.disableOnboarding('tenant-no-onboarding', 1);
    // The directory and agent topics are separate streams: wait until the setting is in before the facts.
    await eventually(async () => {
      const probe = machineFacts({ tenantId: 'tenant-no-onboarding' });
      await harness.publishFacts(probe);
      const [computer] = await untilComputers(probe.hardwareUuid ?? '', (found) => found.length === 1);
      return computer?.onboardingStatus === 'onboarded';
    }, 30_000);
  });
});

describe('a reinstalled agent', () => {
  async function reinstalled() {
    const facts = machineFacts();
    await harness.publishFacts(facts);
    const [known] = await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    const newcomer = { ...facts, agentId: `agent-${randomUUID()}` };
    await harness.publishFacts(newcomer);
    const pending = await pendingFor(newcomer.agentId);
    expect(pending.candidates).toEqual([{ computerId: known?.id, existingAgentId: facts.agentId }]);
    return { facts, newcomer, known: known as Computer };
  }

  async function decide(agentId: string, body: unknown) {
    return harness.api('msp-admin', 'POST', `/identification/pending-decisions/${agentId}`, body);
  }

  it('overwrite existing: the new agent replaces the old one on the same computer', async () => {
    const { facts, newcomer, known } = await reinstalled();
    const decided = await decide(newcomer.agentId, { choice: 'overwrite-existing', computerId: known.id });
    expect(decided).toMatchObject({
      status: 200,
      body: { outcome: 'overwrite-existing', computerId: known.id },
    });
    const [computer] = await computersWithUuid(facts.hardwareUuid ?? '');
    expect(computer?.agents.map((agent) => agent.agentId)).toEqual([newcomer.agentId]);
    expect((await decide(newcomer.agentId, { choice: 'keep-both' })).status).toBe(404);
  });

  it('keep both: the newcomer becomes a second computer, and its later reports stay with it', async () => {
    const { facts, newcomer, known } = await reinstalled();
    const decided = await decide(newcomer.agentId, { choice: 'keep-both' });
    expect(decided).toMatchObject({ status: 200, body: { outcome: 'keep-both' } });
    await harness.publishFacts({ ...newcomer, version: 2, hostname: 'CLONE' });
    const computers = await untilComputers(facts.hardwareUuid ?? '', (found) =>
      found.some((computer) => computer.agents[0]?.agentId === newcomer.agentId && computer.version === 2),
    );
    expect(computers).toHaveLength(2);
    expect(computers.map((computer) => computer.id)).toContain(known.id);
  });

  it('delete existing: the known computer is deleted and the newcomer becomes a new one', async () => {
    const { facts, newcomer, known } = await reinstalled();
    const decided = await decide(newcomer.agentId, { choice: 'delete-existing', computerId: known.id });
    expect(decided).toMatchObject({
      status: 200,
      body: { outcome: 'delete-existing', deletedComputerId: known.id },
    });
    const [computer] = await computersWithUuid(facts.hardwareUuid ?? '');
    expect(computer?.agents.map((agent) => agent.agentId)).toEqual([newcomer.agentId]);
    expect(computer?.id).not.toBe(known.id);
    expect((await details(known.id)).history.at(-1)?.event).toBe('deleted');
  });

  it('refuses overwrite without the computer it applies to', async () => {
    const { newcomer } = await reinstalled();
    expect((await decide(newcomer.agentId, { choice: 'overwrite-existing' })).status).toBe(400);
    expect((await decide(newcomer.agentId, { choice: 'merge' })).status).toBe(400);
  });
});

describe('two agents of one new machine at once', () => {
  it('produce exactly one computer', async () => {
    const machines = Array.from({ length: 8 }, () => machineFacts());
    // Both agents of every machine in one batch: they land on different partitions, handled concurrently.
    await harness.publishMany(
      machines.flatMap((facts) => [
        facts,
        { ...facts, agentId: `automate-${randomUUID()}`, provider: 'cw-automate' },
      ]),
    );
    for (const facts of machines) {
      const computers = await untilComputers(
        facts.hardwareUuid ?? '',
        (found) => found[0]?.agents.length === 2,
      );
      expect(computers).toHaveLength(1);
    }
  });
});

describe('tenant scope', () => {
  it('keeps a tenant admin from seeing or deciding on another tenant computers', async () => {
    const facts = machineFacts({ tenantId: 'tenant-fabrikam' });
    await harness.publishFacts(facts);
    const [computer] = await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    const id = computer?.id ?? '';
    const newcomer = { ...facts, agentId: `agent-${randomUUID()}` };
    await harness.publishFacts(newcomer);
    await pendingFor(newcomer.agentId);

    expect((await harness.api('tenant-admin', 'GET', `/computers/${id}`)).status).toBe(404);
    const listed = await harness.api('tenant-admin', 'GET', `/computers?search=${facts.hardwareUuid ?? ''}`);
    expect((listed.body as Page<Computer>).items).toEqual([]);
    expect((await harness.api('tenant-admin', 'GET', '/computers?tenantId=tenant-fabrikam')).status).toBe(
      403,
    );
    const pending = await harness.api('tenant-admin', 'GET', '/identification/pending-decisions?limit=200');
    expect((pending.body as Page<PendingDecision>).items.map((item) => item.agentId)).not.toContain(
      newcomer.agentId,
    );
    const decided = await harness.api(
      'tenant-admin',
      'POST',
      `/identification/pending-decisions/${newcomer.agentId}`,
      {
        choice: 'delete-existing',
        computerId: id,
      },
    );
    expect(decided.status).toBe(404);
    expect((await harness.api('tenant-admin', 'POST', `/computers/${id}/delete`)).status).toBe(404);
    expect((await harness.api('tenant-non-admin', 'POST', `/computers/${id}/delete`)).status).toBe(403);
    expect((await details(id)).agents).toHaveLength(1);
  });

  it('lets a tenant admin manage its own tenant computers', async () => {
    const facts = machineFacts();
    await harness.publishFacts(facts);
    const [computer] = await untilComputers(facts.hardwareUuid ?? '', (found) => found.length === 1);
    const patched = await harness.api('tenant-admin', 'PATCH', `/computers/${computer?.id ?? ''}`, {
      name: 'Reception PC',
      tags: ['front-desk'],
      excludedFromMaintenance: true,
    });
    expect(patched).toMatchObject({ status: 200, body: { name: 'Reception PC', tags: ['front-desk'] } });
    const tagged = await harness.api('tenant-admin', 'GET', '/computers?tag=front-desk&name=recep');
    expect((tagged.body as Page<Computer>).items.map((item) => item.id)).toContain(computer?.id);
    const moved = await harness.api(
      'tenant-admin',
      'POST',
      `/computers/${computer?.id ?? ''}/change-tenant`,
      {
        tenantId: 'tenant-fabrikam',
      },
    );
    expect(moved.status).toBe(403);
  });
});
