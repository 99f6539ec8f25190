import { describe, expect, it } from '@jest/globals';
import { NotFoundError, ValidationError } from '@converge/errors';
import { identityKey } from './computer.ts';
import { computerOf, factsOf, policy, uuid } from './computer.fixtures.ts';
import { identifyComputer, type ManualDecisionRequest } from './identification.ts';
import { applyManualDecision, type TechnicianChoice } from './manual-decision.ts';

const existing = computerOf({
  agents: [
    ...computerOf().agents,
    {
      agentId: 'automate-1',
      provider: 'cw-automate',
      factsVersion: 3,
      firstSeenAt: '2026-11-01T08:00:00Z',
      lastSeenAt: '2026-11-22T08:00:00Z',
    },
  ],
});
const reinstalled = factsOf({ agentId: 'agent-2', osInstallId: 'install-2' });
const request: ManualDecisionRequest = {
  reason: 'agent-reinstalled-or-cloned',
  facts: reinstalled,
  matchedBy: 'hardware-uuid',
  candidates: [{ computerId: 'computer-1', existingAgentId: 'agent-1' }],
};

function decide(choice: TechnicianChoice, candidates = [existing], onboardingEnabledForTenant = true) {
  return applyManualDecision({
    request,
    candidates,
    choice,
    policy,
    onboardingEnabledForTenant,
    newComputerId: 'computer-2',
  });
}

describe('applying a technician decision', () => {
  it('overwrite existing: the new agent replaces the old agent of that provider', () => {
    const outcome = decide({ kind: 'overwrite-existing', computerId: 'computer-1' });
    expect(outcome).toMatchObject({ kind: 'overwrite-existing', replacedAgentId: 'agent-1', wiped: true });
    if (outcome.kind !== 'overwrite-existing') return;
    expect(outcome.computer.agents.map((agent) => agent.agentId)).toEqual(['automate-1', 'agent-2']);
    expect(outcome.computer).toMatchObject({
      id: 'computer-1',
      version: 2,
      onboardingStatus: 'needs-onboarding',
    });
  });

  it('keep both: the newcomer becomes a new computer whose shim keeps it apart', () => {
    const outcome = decide({ kind: 'keep-both' }, [], false);
    expect(outcome).toMatchObject({
      kind: 'keep-both',
      computer: {
        id: 'computer-2',
        hardwareUuid: uuid,
        uuidShim: 'shim:computer-2',
        onboardingStatus: 'onboarded',
        agents: [{ agentId: 'agent-2' }],
      },
    });
    if (outcome.kind !== 'keep-both') return;
    expect(identityKey(outcome.computer)).not.toBe(identityKey(existing));
  });

  it('keep both: later reports from either agent keep finding their own computer', () => {
    const outcome = decide({ kind: 'keep-both' });
    if (outcome.kind !== 'keep-both') throw new Error('expected keep-both');
    const both = [existing, outcome.computer];
    const next = (
      agentId: string,
      ofAgent = both.find((computer) => computer.agents.some((a) => a.agentId === agentId)) ?? null,
    ) =>
      identifyComputer({
        facts: factsOf({ agentId, version: 5 }),
        known: { ofAgent, byHardwareUuid: both, bySerialNumber: [] },
        policy,
        onboardingEnabledForTenant: true,
        newComputerId: 'computer-3',
      });
    expect(next('agent-1')).toMatchObject({ kind: 'refresh-facts', computer: { id: 'computer-1' } });
    expect(next('agent-2')).toMatchObject({ kind: 'refresh-facts', computer: { id: 'computer-2' } });
  });

  it('delete existing: the candidate goes and the newcomer takes its UUID as a new computer', () => {
    const outcome = decide({ kind: 'delete-existing', computerId: 'computer-1' });
    expect(outcome).toMatchObject({
      kind: 'delete-existing',
      deletedComputerId: 'computer-1',
      computer: { id: 'computer-2', uuidShim: null, onboardingStatus: 'needs-onboarding', version: 1 },
    });
    if (outcome.kind !== 'delete-existing') return;
    expect(identityKey(outcome.computer)).toBe(uuid);
  });

  it('delete existing of a shimmed computer shims its replacement, the twin still holds the UUID', () => {
    const twin = computerOf({ uuidShim: 'shim:computer-1' });
    const outcome = decide({ kind: 'delete-existing', computerId: 'computer-1' }, [twin]);
    expect(outcome).toMatchObject({ kind: 'delete-existing', computer: { uuidShim: 'shim:computer-2' } });
  });

  it('refuses a computer that is not one of the candidates', () => {
    expect(() => decide({ kind: 'overwrite-existing', computerId: 'computer-9' })).toThrow(ValidationError);
  });

  it('refuses a candidate that no longer exists', () => {
    expect(() => decide({ kind: 'delete-existing', computerId: 'computer-1' }, [])).toThrow(NotFoundError);
  });
});
