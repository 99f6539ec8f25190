import { sessionStatusChanged, type SessionStatus } from '@converge/contracts';
import { isEvent, type Bus, type Subscription } from '@converge/bus';
import type { OnboardingCommand } from '../../domain/onboarding-status.ts';
import { followOnboardingSession } from '../../use-cases/computer-changes.ts';
import type { IdentityDeps } from '../../use-cases/identity-deps.ts';

// A session with nothing to run goes from created to passed at once, so a final status also starts onboarding
// first (a start the status does not allow, because it already started, changes nothing).
const onboardingCommands: Partial<
  Record<SessionStatus, Extract<OnboardingCommand, 'start' | 'complete' | 'fail'>[]>
> = {
  running: ['start'],
  passed: ['start', 'complete'],
  'partially-passed': ['start', 'fail'],
  failed: ['start', 'fail'],
  cancelled: ['start', 'fail'],
  missed: ['start', 'fail'],
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
      const commands = onboardingCommands[event.data.status];
      if (commands === undefined) return;
      const { sessionId, computerId, tenantId } = event.data;
      await followOnboardingSession(
        { computers: deps.computers, bus, clock: deps.clock },
        { sessionId, computerId, tenantId },
        commands,
      );
    },
  });
}
