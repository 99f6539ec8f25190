import { contractEvent, type Bus } from '@converge/bus';
import { computerChangeRequested, type ComputerChange } from '@converge/contracts';
import type { OnboardingCommand } from '../domain/onboarding-status.ts';
import type { PersonChange } from '../data-access/directory.repository.ts';
import type { ComputerRepository } from '../data-access/computer.repository.ts';
import { ownerKeyOf } from '../data-access/computer.schema.ts';

/*
 * Changes of computers that events of other services imply, sent to the computers' owners as commands
 * (docs/architecture.md §9): nothing here writes a computer.
 */

export interface ComputerChangesDeps {
  computers: ComputerRepository;
  bus: Bus;
  clock: () => Date;
}

function changeOf(computer: { _id: string; tenantId: string }, change: ComputerChange, requestedAt: string) {
  return { computerId: computer._id, tenantId: null, change, requestedAt, reply: null };
}

/**
 * After a person was added, renamed or deleted in the directory, the computers whose primary person or people may
 * differ now derive them again: those whose recent logons include the person's old or new UPN, or that list the
 * person. A search of the collection, but directory changes are rare and touch few computers.
 */
export async function refreshAffinity(deps: ComputerChangesDeps, change: PersonChange): Promise<void> {
  const affected = await deps.computers.withPersonOrUpns(
    change.tenantId,
    change.personId,
    change.affectedUpns,
  );
  const requestedAt = deps.clock().toISOString();
  await deps.bus.publishAll(
    affected.map((computer) =>
      contractEvent(computerChangeRequested, {
        subject: ownerKeyOf(computer),
        tenantId: computer.tenantId,
        data: changeOf(computer, { kind: 'refresh-affinity', personId: change.personId }, requestedAt),
      }),
    ),
  );
}

/** The computer's onboarding session moved: its onboarding status follows (`commands`, in order). */
export async function followOnboardingSession(
  deps: ComputerChangesDeps,
  session: { sessionId: string; computerId: string; tenantId: string },
  commands: Extract<OnboardingCommand, 'start' | 'complete' | 'fail'>[],
): Promise<void> {
  const key = await deps.computers.ownerKeyOf(session.computerId);
  // A computer this installation does not know (deleted for good, or of another installation) has no status.
  if (key === null) return;
  const computer = { _id: session.computerId, tenantId: session.tenantId };
  await deps.bus.publish(computerChangeRequested, {
    subject: key,
    tenantId: session.tenantId,
    data: changeOf(
      computer,
      { kind: 'follow-onboarding-session', sessionId: session.sessionId, commands },
      deps.clock().toISOString(),
    ),
  });
}
