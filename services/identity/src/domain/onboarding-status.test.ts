import { describe, expect, it } from '@jest/globals';
import { ConflictError } from '@converge/errors';
import { InvalidOnboardingTransitionError, transitionOnboarding } from './onboarding-status.ts';

describe('onboarding status', () => {
  it('moves from needs onboarding through onboarding to onboarded', () => {
    const started = transitionOnboarding('needs-onboarding', 'start');
    expect(started).toBe('onboarding');
    expect(transitionOnboarding(started, 'complete')).toBe('onboarded');
  });

  it('lets a failed onboarding be started again', () => {
    expect(transitionOnboarding(transitionOnboarding('onboarding', 'fail'), 'start')).toBe('onboarding');
  });

  it('resets an onboarded or failed computer to needs onboarding', () => {
    expect(transitionOnboarding('onboarded', 'reset')).toBe('needs-onboarding');
    expect(transitionOnboarding('failed', 'reset')).toBe('needs-onboarding');
  });

  it('skips onboarding of a computer waiting for it or whose onboarding failed', () => {
    expect(transitionOnboarding('needs-onboarding', 'skip')).toBe('onboarded');
    expect(transitionOnboarding('failed', 'skip')).toBe('onboarded');
  });

  it.each([
    ['onboarded', 'start'],
    ['needs-onboarding', 'complete'],
    ['needs-onboarding', 'fail'],
    ['needs-onboarding', 'reset'],
    ['onboarding', 'reset'],
    ['onboarding', 'skip'],
    ['onboarded', 'skip'],
  ] as const)('refuses to %s → %s with a named conflict error', (from, command) => {
    expect(() => transitionOnboarding(from, command)).toThrow(InvalidOnboardingTransitionError);
    expect(() => transitionOnboarding(from, command)).toThrow(ConflictError);
  });
});
