import { ConflictError } from '@converge/errors';
import type { PersonChange } from '../data-access/directory.repository.ts';
import { stateOf, writeComputer } from './computer-writer.ts';
import type { IdentityDeps } from './identity-deps.ts';

const maxAttempts = 5;

/**
 * After a person was added, renamed or deleted in the directory, rewrites the computers whose primary person or
 * people may differ now: those whose recent logons include the person's old or new UPN, or that list the
 * person. A write derives both afresh (and publishes the computer's snapshot); these are few computers.
 */
export async function refreshAffinity(deps: IdentityDeps, change: PersonChange): Promise<void> {
  const affected = await deps.computers.withPersonOrUpns(
    change.tenantId,
    change.personId,
    change.affectedUpns,
  );
  for (const found of affected) {
    let computer = found;
    for (let attempt = 1; ; attempt++) {
      try {
        await writeComputer(deps, { current: computer, next: stateOf(computer) });
        break;
      } catch (error) {
        if (attempt >= maxAttempts || !(error instanceof ConflictError)) throw error;
        const reloaded = await deps.computers.findAnyById(computer._id);
        if (reloaded === null) break;
        computer = reloaded;
      }
    }
  }
}
