import { sessionStatusChanged, type SessionStatus } from '@converge/contracts';
import { isEvent, type Bus, type Subscription } from '@converge/bus';
import { followOnboardingSession } from '../../use-cases/computer-management.ts';
import type { IdentityDeps } from '../../use-cases/identity-deps.ts';

const onboardingCommands: Partial<Record<SessionStatus, 'start' | 'complete' | 'fail'>> = {
  running: 'start',
  passed: 'complete',
  'partially-passed': 'fail',
  failed: 'fail',
  cancelled: 'fail',
  missed: 'fail',
};

/** Onboarding sessions move their computer's onboarding status: onboarding while running, then onboarded or failed. */
export function consumeSessionEvents(
  bus: Bus,
  deps: IdentityDeps,
  opts: { groupId: string; topic: string },
): Promise<Subscription> {
  return bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: true,
    handle: async (event) => {
      if (!isEvent(event, sessionStatusChanged) || event.data.kind !== 'onboarding') return;
      const command = onboardingCommands[event.data.status];
      if (command !== undefined) await followOnboardingSession(deps, event.data.computerId, command);
    },
  });
}
