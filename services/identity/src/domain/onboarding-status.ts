import type { OnboardingStatus } from '@converge/contracts';
import { ConflictError } from '@converge/errors';

/**
 * Onboarding is a computer's first maintenance session. A computer waits in "needs onboarding" (the New
 * Computers list) until that session starts, and leaves it when the session succeeds or a technician skips it.
 */
export type OnboardingCommand = 'start' | 'complete' | 'fail' | 'reset' | 'skip';

/**
 * Allowed moves. A failed onboarding can be started again or skipped. Reset and skip are refused while a session
 * is onboarding the computer: that session would report into a status it no longer owns.
 */
const transitions: Record<OnboardingCommand, Partial<Record<OnboardingStatus, OnboardingStatus>>> = {
  start: { 'needs-onboarding': 'onboarding', failed: 'onboarding' },
  complete: { onboarding: 'onboarded' },
  fail: { onboarding: 'failed' },
  reset: { onboarded: 'needs-onboarding', failed: 'needs-onboarding' },
  skip: { 'needs-onboarding': 'onboarded', failed: 'onboarded' },
};

export class InvalidOnboardingTransitionError extends ConflictError {
  readonly from: OnboardingStatus;
  readonly command: OnboardingCommand;

  constructor(from: OnboardingStatus, command: OnboardingCommand) {
    super(`cannot ${command} onboarding of a computer whose onboarding status is ${from}`);
    this.from = from;
    this.command = command;
  }
}

export function transitionOnboarding(from: OnboardingStatus, command: OnboardingCommand): OnboardingStatus {
  const to = transitions[command][from];
  if (to === undefined) throw new InvalidOnboardingTransitionError(from, command);
  return to;
}
