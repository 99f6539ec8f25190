import { describe, expect, it } from '@jest/globals';
import { identityKey, machineKey, type AgentFacts } from './computer.ts';
import { computerOf, factsOf, policy, uuid } from './computer.fixtures.ts';
import {
  identificationKey,
  identificationPolicy,
  identifyComputer,
  type KnownComputers,
} from './identification.ts';

const nobody: KnownComputers = { ofAgent: null, byHardwareUuid: [], bySerialNumber: [] };

function identify(facts: AgentFacts, known: Partial<KnownComputers> = {}, onboardingEnabledForTenant = true) {
  return identifyComputer({
    facts,
    known: { ...nobody, ...known },
    policy,
    onboardingEnabledForTenant,
    newComputerId: 'computer-new',
  });
}

describe('identifying a new machine', () => {
  it('creates a computer in the agent tenant that needs onboarding', () => {
    const decision = identify(factsOf({ agentId: 'agent-9', tenantId: 'tenant-7' }));
    expect(decision.kind).toBe('create-computer');
    if (decision.kind !== 'create-computer') return;
    expect(decision.computer).toMatchObject({
      id: 'computer-new',
      tenantId: 'tenant-7',
      version: 1,
      hardwareUuid: uuid,
      onboardingStatus: 'needs-onboarding',
      agents: [{ agentId: 'agent-9', provider: 'converge', factsVersion: 1 }],
      affinity: { recentUpns: ['ann@contoso.com'] },
    });
    expect(identityKey(decision.computer)).toBe(uuid);
  });

  it('creates it onboarded when onboarding is off for the tenant', () => {
    const decision = identify(factsOf(), {}, false);
    expect(decision).toMatchObject({ kind: 'create-computer', computer: { onboardingStatus: 'onboarded' } });
  });

  it('creates it onboarded when onboarding is off globally', () => {
    const decision = identifyComputer({
      facts: factsOf(),
      known: nobody,
      policy: { ...policy, onboardingEnabledGlobally: false },
      onboardingEnabledForTenant: true,
      newComputerId: 'computer-new',
    });
    expect(decision).toMatchObject({ kind: 'create-computer', computer: { onboardingStatus: 'onboarded' } });
  });
});

describe('identifying a known hardware UUID', () => {
  it('attaches an agent of a provider the computer has no agent of', () => {
    const known = computerOf();
    const decision = identify(factsOf({ agentId: 'automate-42', provider: 'cw-automate' }), {
      byHardwareUuid: [known],
    });
    expect(decision).toMatchObject({ kind: 'attach-agent', matchedBy: 'hardware-uuid', wiped: false });
    if (decision.kind !== 'attach-agent') return;
    expect(decision.computer.version).toBe(known.version + 1);
    expect(decision.computer.agents.map((agent) => agent.agentId)).toEqual(['agent-1', 'automate-42']);
    expect(decision.computer.onboardingStatus).toBe('onboarded');
  });

  it('matches the UUID whatever format the agent reports it in', () => {
    const decision = identify(
      factsOf({ agentId: 'control-1', provider: 'cw-control', hardwareUuid: `{${uuid}}` }),
      {
        byHardwareUuid: [computerOf()],
      },
    );
    expect(decision.kind).toBe('attach-agent');
  });

  it('needs a manual decision when a new agent id arrives for a provider already attached', () => {
    const decision = identify(factsOf({ agentId: 'agent-2' }), { byHardwareUuid: [computerOf()] });
    expect(decision).toEqual({
      kind: 'needs-manual-decision',
      request: {
        reason: 'agent-reinstalled-or-cloned',
        facts: factsOf({ agentId: 'agent-2' }),
        matchedBy: 'hardware-uuid',
        candidates: [{ computerId: 'computer-1', existingAgentId: 'agent-1' }],
      },
    });
  });

  it('needs a manual decision when several computers share the UUID after a keep-both', () => {
    const original = computerOf();
    const twin = computerOf({ id: 'computer-2', uuidShim: 'shim:computer-2', agents: [] });
    const decision = identify(factsOf({ agentId: 'control-1', provider: 'cw-control' }), {
      byHardwareUuid: [original, twin],
    });
    expect(decision).toMatchObject({
      kind: 'needs-manual-decision',
      request: {
        reason: 'duplicate-hardware-uuid',
        candidates: [
          { computerId: 'computer-1', existingAgentId: null },
          { computerId: 'computer-2', existingAgentId: null },
        ],
      },
    });
  });

  it('keeps a wiped computer and sets it back to needs onboarding', () => {
    const decision = identify(
      factsOf({ agentId: 'automate-42', provider: 'cw-automate', osInstallId: 'install-2' }),
      {
        byHardwareUuid: [computerOf()],
      },
    );
    expect(decision).toMatchObject({
      kind: 'attach-agent',
      wiped: true,
      computer: { id: 'computer-1', osInstallId: 'install-2', onboardingStatus: 'needs-onboarding' },
    });
  });

  it('ignores computers the edge returned that do not hold the UUID', () => {
    const other = computerOf({ hardwareUuid: '11111111-2222-3333-4444-555555555555' });
    expect(identify(factsOf(), { byHardwareUuid: [other] }).kind).toBe('create-computer');
  });
});

describe('facts from an agent already attached', () => {
  const known = computerOf();

  it('refreshes the facts and last seen time of its computer', () => {
    const facts = factsOf({
      version: 2,
      hostname: 'DESKTOP-RENAMED',
      reportedAt: '2026-11-24T08:00:00Z',
      loggedOnUpns: ['bob@contoso.com'],
    });
    const decision = identify(facts, { ofAgent: known, byHardwareUuid: [known] });
    expect(decision).toMatchObject({
      kind: 'refresh-facts',
      wiped: false,
      hardwareUuidChanged: false,
      computer: {
        id: 'computer-1',
        version: 2,
        hostname: 'DESKTOP-RENAMED',
        lastSeenAt: '2026-11-24T08:00:00Z',
        agents: [
          {
            agentId: 'agent-1',
            factsVersion: 2,
            // First seen stays when the agent's link is refreshed.
            firstSeenAt: '2026-11-23T08:00:00Z',
            lastSeenAt: '2026-11-24T08:00:00Z',
          },
        ],
        affinity: { recentUpns: ['ann@contoso.com', 'bob@contoso.com'] },
      },
    });
  });

  it.each([1, 0])(
    'changes nothing for a report of version %i, not newer than the last applied',
    (version) => {
      expect(identify(factsOf({ version }), { ofAgent: known })).toEqual({
        kind: 'no-change',
        computerId: 'computer-1',
        reason: 'stale-facts',
      });
    },
  );

  it('sets a wiped computer back to needs onboarding on refresh', () => {
    const decision = identify(factsOf({ version: 2, osInstallId: 'INSTALL-2' }), { ofAgent: known });
    expect(decision).toMatchObject({
      kind: 'refresh-facts',
      wiped: true,
      computer: { onboardingStatus: 'needs-onboarding' },
    });
  });

  it('does not take the same OS install id in another case for a wipe', () => {
    const decision = identify(factsOf({ version: 2, osInstallId: 'INSTALL-1' }), { ofAgent: known });
    expect(decision).toMatchObject({ wiped: false, computer: { onboardingStatus: 'onboarded' } });
  });

  it('leaves a wiped computer onboarded when onboarding is off', () => {
    const decision = identify(factsOf({ version: 2, osInstallId: 'install-2' }), { ofAgent: known }, false);
    expect(decision).toMatchObject({
      kind: 'refresh-facts',
      wiped: true,
      computer: { onboardingStatus: 'onboarded' },
    });
  });

  it('keeps known identifiers when the report lacks them (broken WMI)', () => {
    const facts = factsOf({ version: 2, hardwareUuid: null, serialNumber: null, osInstallId: null });
    const decision = identify(facts, { ofAgent: known });
    expect(decision).toMatchObject({
      kind: 'refresh-facts',
      hardwareUuidChanged: false,
      computer: { hardwareUuid: uuid, serialNumber: 'ABC1234', osInstallId: 'install-1' },
    });
  });

  it('takes a new hardware UUID after a mainboard change when no other computer holds it', () => {
    const replaced = '11111111-2222-3333-4444-555555555555';
    const decision = identify(factsOf({ version: 2, hardwareUuid: replaced }), { ofAgent: known });
    expect(decision).toMatchObject({
      kind: 'refresh-facts',
      hardwareUuidChanged: true,
      computer: { hardwareUuid: replaced },
    });
  });

  it('fails when its new hardware UUID is held by another computer', () => {
    const replaced = '11111111-2222-3333-4444-555555555555';
    const holder = computerOf({ id: 'computer-2', hardwareUuid: replaced });
    const decision = identify(factsOf({ version: 2, hardwareUuid: replaced }), {
      ofAgent: known,
      byHardwareUuid: [holder],
    });
    expect(decision).toEqual({
      kind: 'failed',
      failure: { reason: 'hardware-uuid-taken', computerId: 'computer-1', takenBy: 'computer-2' },
      retryable: true,
    });
  });

  it('stays with its shimmed computer although the original holds the same UUID', () => {
    const twin = computerOf({ id: 'computer-2', uuidShim: 'shim:computer-2' });
    const original = computerOf({ agents: [] });
    const decision = identify(factsOf({ version: 2 }), { ofAgent: twin, byHardwareUuid: [original, twin] });
    expect(decision).toMatchObject({
      kind: 'refresh-facts',
      computer: { id: 'computer-2', uuidShim: 'shim:computer-2' },
    });
  });
});

describe('identifying without a usable hardware UUID', () => {
  const noUuid = (overrides: Partial<AgentFacts> = {}) => factsOf({ hardwareUuid: null, ...overrides });

  it.each([
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '03000200-0400-0500-0006-000700080009',
  ])('never matches on the known-bad UUID %s', (bad) => {
    const sharing = computerOf({ hardwareUuid: bad });
    const decision = identify(factsOf({ hardwareUuid: bad, manufacturer: 'Generic', agentId: 'agent-2' }), {
      byHardwareUuid: [sharing],
    });
    expect(decision).toMatchObject({
      kind: 'failed',
      failure: { reason: 'no-usable-identifier', hardwareUuid: 'known-bad' },
    });
  });

  it('treats an extra configured known-bad UUID as no UUID', () => {
    const custom = identificationPolicy({
      extraKnownBadHardwareUuids: [uuid],
      trustedManufacturers: [],
      onboardingEnabledGlobally: true,
    });
    const decision = identifyComputer({
      facts: factsOf(),
      known: nobody,
      policy: custom,
      onboardingEnabledForTenant: true,
      newComputerId: 'computer-new',
    });
    expect(decision).toMatchObject({ kind: 'failed', failure: { hardwareUuid: 'known-bad' } });
  });

  it('falls back to manufacturer and serial number for a trusted manufacturer', () => {
    const known = computerOf({ hardwareUuid: null });
    const decision = identify(
      noUuid({ agentId: 'automate-1', provider: 'cw-automate', manufacturer: 'DELL  INC.' }),
      {
        bySerialNumber: [known],
      },
    );
    expect(decision).toMatchObject({
      kind: 'attach-agent',
      matchedBy: 'serial-number',
      computer: { id: 'computer-1' },
    });
  });

  it('needs a manual decision when the serial match already has an agent of the provider', () => {
    const decision = identify(noUuid({ agentId: 'agent-2' }), {
      bySerialNumber: [computerOf({ hardwareUuid: null })],
    });
    expect(decision).toMatchObject({
      kind: 'needs-manual-decision',
      request: { matchedBy: 'serial-number' },
    });
  });

  it('creates a computer keyed by serial number when no computer has that serial', () => {
    const decision = identify(noUuid({ hardwareUuid: 'garbage' }));
    expect(decision).toMatchObject({ kind: 'create-computer', computer: { hardwareUuid: null } });
    if (decision.kind !== 'create-computer') return;
    expect(identityKey(decision.computer)).toBe('serial:dell inc.:abc1234');
  });

  it('ignores serial matches of another manufacturer', () => {
    const lenovo = computerOf({ hardwareUuid: null, manufacturer: 'LENOVO' });
    expect(identify(noUuid(), { bySerialNumber: [lenovo] }).kind).toBe('create-computer');
  });

  it('fails, retryably, for a manufacturer that is not trusted', () => {
    expect(identify(noUuid({ manufacturer: 'To Be Filled By O.E.M.' }))).toEqual({
      kind: 'failed',
      failure: {
        reason: 'no-usable-identifier',
        hardwareUuid: 'missing',
        serialNumber: 'manufacturer-not-trusted',
      },
      retryable: true,
    });
  });

  it('fails, retryably, for a trusted manufacturer without a real serial number', () => {
    expect(identify(noUuid({ hardwareUuid: 'xyz', serialNumber: 'System Serial Number' }))).toEqual({
      kind: 'failed',
      failure: { reason: 'no-usable-identifier', hardwareUuid: 'malformed', serialNumber: 'missing' },
      retryable: true,
    });
  });
});

describe('the key a report is identified under', () => {
  it('is the canonical hardware UUID, which the computer it creates is the machine of', () => {
    const facts = factsOf({ hardwareUuid: `{${uuid.toUpperCase()}}` });
    expect(identificationKey(facts, policy)).toBe(uuid);
    const decision = identify(facts);
    if (decision.kind !== 'create-computer') throw new Error(decision.kind);
    expect(machineKey(decision.computer)).toBe(uuid);
  });

  it('is the serial key of a trusted manufacturer without a usable UUID, and the created computer keeps it', () => {
    const facts = factsOf({ hardwareUuid: null, serialNumber: 'ABC123' });
    expect(identificationKey(facts, policy)).toBe('serial:dell inc.:abc123');
    const decision = identify(facts);
    if (decision.kind !== 'create-computer') throw new Error(decision.kind);
    expect(machineKey(decision.computer)).toBe('serial:dell inc.:abc123');
  });

  it('is the agent id when nothing identifies the machine', () => {
    expect(identificationKey(factsOf({ hardwareUuid: null, manufacturer: 'Generic' }), policy)).toBe(
      'agent-1',
    );
    expect(identificationKey(factsOf({ hardwareUuid: null, serialNumber: null }), policy)).toBe('agent-1');
  });

  it('is shared by a computer kept apart from its clone, whose identity key differs', () => {
    const twin = computerOf({ id: 'computer-2', uuidShim: 'shim:computer-2' });
    expect(machineKey(twin)).toBe(uuid);
    expect(identityKey(twin)).toBe('shim:computer-2');
  });
});
