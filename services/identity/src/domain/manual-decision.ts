import { NotFoundError, ValidationError } from '@converge/errors';
import { applyFacts, createComputer, uuidShimFor, type Computer } from './computer.ts';
import { readHardwareUuid } from './hardware-identifiers.ts';
import {
  onboardingEnabled,
  type IdentificationPolicy,
  type ManualDecisionRequest,
} from './identification.ts';

/**
 * A technician's answer to "needs manual decision". Almost always the agent was reinstalled and
 * `overwrite-existing` is right; `keep-both` is for a cloned disk or virtual machine; `delete-existing` drops
 * the stale computer and starts over with the newcomer.
 */
export type TechnicianChoice =
  | { kind: 'overwrite-existing'; computerId: string }
  | { kind: 'keep-both' }
  | { kind: 'delete-existing'; computerId: string };

export type ManualDecisionOutcome =
  /** The new agent replaces the candidate's agent of the same provider (if any) on that computer. */
  | { kind: 'overwrite-existing'; computer: Computer; replacedAgentId: string | null; wiped: boolean }
  /** The newcomer becomes its own computer, shimmed so it no longer collides with the known one. */
  | { kind: 'keep-both'; computer: Computer }
  /** The candidate is deleted and the newcomer takes its place as a new computer. */
  | { kind: 'delete-existing'; deletedComputerId: string; computer: Computer };

export interface ManualDecisionInput {
  request: ManualDecisionRequest;
  /** The request's candidates as they are now (the edge reloads them; they may have changed meanwhile). */
  candidates: readonly Computer[];
  choice: TechnicianChoice;
  policy: IdentificationPolicy;
  onboardingEnabledForTenant: boolean;
  /** Id for the computer `keep-both` and `delete-existing` create. */
  newComputerId: string;
}

export function applyManualDecision(input: ManualDecisionInput): ManualDecisionOutcome {
  const { request, choice } = input;
  const facts = request.facts;
  const onboarding = onboardingEnabled(input.policy, input.onboardingEnabledForTenant);
  const uuid = readHardwareUuid(facts.hardwareUuid, input.policy.knownBadHardwareUuids);
  const hardwareUuid = request.matchedBy === 'hardware-uuid' && uuid.usable ? uuid.uuid : null;

  if (choice.kind === 'keep-both') {
    // The shim becomes the newcomer's identity key, so the duplicate UUID stays on record (later reports of
    // the same UUID still find both) while the unique key no longer collides; the newcomer's own agent then
    // finds it directly as the computer it is attached to.
    return {
      kind: 'keep-both',
      computer: createComputer(facts, {
        id: input.newComputerId,
        hardwareUuid,
        uuidShim: uuidShimFor(input.newComputerId),
        onboardingEnabled: onboarding,
      }),
    };
  }

  const computer = chosenCandidate(input, choice.computerId);
  if (choice.kind === 'overwrite-existing') {
    const replaced = computer.agents.find((agent) => agent.provider === facts.provider);
    const applied = applyFacts(computer, facts, onboarding, replaced === undefined ? [] : [replaced.agentId]);
    return {
      kind: 'overwrite-existing',
      computer: applied.computer,
      replacedAgentId: replaced?.agentId ?? null,
      wiped: applied.wiped,
    };
  }
  return {
    kind: 'delete-existing',
    deletedComputerId: computer.id,
    // A deleted shimmed computer leaves its twin holding the plain UUID, so the replacement needs a shim too.
    computer: createComputer(facts, {
      id: input.newComputerId,
      hardwareUuid,
      uuidShim: computer.uuidShim === null ? null : uuidShimFor(input.newComputerId),
      onboardingEnabled: onboarding,
    }),
  };
}

function chosenCandidate(input: ManualDecisionInput, computerId: string): Computer {
  if (!input.request.candidates.some((candidate) => candidate.computerId === computerId)) {
    throw new ValidationError(`computer ${computerId} is not a candidate of this decision`, [
      { path: 'choice.computerId', message: 'must be one of the request candidates' },
    ]);
  }
  const computer = input.candidates.find((candidate) => candidate.id === computerId);
  if (computer === undefined) throw new NotFoundError(`computer ${computerId} no longer exists`);
  return computer;
}
