import type { Connection } from 'mongoose';
import type { IdentificationPolicy } from '../domain/identification.ts';
import { AgentPresenceRepository } from '../data-access/agent-presence.repository.ts';
import { ComputerRepository } from '../data-access/computer.repository.ts';
import { DirectoryRepository } from '../data-access/directory.repository.ts';
import { IdentificationFailureRepository } from '../data-access/identification-failure.repository.ts';
import { PendingDecisionRepository } from '../data-access/pending-decision.repository.ts';

/** What the use cases work with: the repositories, the installation's policy and a clock. */
export interface IdentityDeps {
  computers: ComputerRepository;
  pending: PendingDecisionRepository;
  failures: IdentificationFailureRepository;
  directory: DirectoryRepository;
  presence: AgentPresenceRepository;
  policy: IdentificationPolicy;
  staleAfterDays: number;
  clock: () => Date;
}

export function identityDeps(
  mongo: Connection,
  settings: { policy: IdentificationPolicy; staleAfterDays: number; clock?: () => Date },
): IdentityDeps {
  return {
    computers: new ComputerRepository(mongo),
    pending: new PendingDecisionRepository(mongo),
    failures: new IdentificationFailureRepository(mongo),
    directory: new DirectoryRepository(mongo),
    presence: new AgentPresenceRepository(mongo),
    policy: settings.policy,
    staleAfterDays: settings.staleAfterDays,
    clock: settings.clock ?? (() => new Date()),
  };
}
