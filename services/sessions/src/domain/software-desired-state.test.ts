import { describe, it, expect } from '@jest/globals';
import type { SoftwareDesiredState } from './maintenance-session.ts';
import { decideSoftwareAction, isDesiredStateReached } from './software-desired-state.ts';
import { parseVersion } from '@converge/versions';

function decide(desired: SoftwareDesiredState, detected: string | null, forceReinstall = false): string {
  return decideSoftwareAction(desired, detected === null ? null : parseVersion(detected), forceReinstall);
}

describe('deciding the software action from the desired state', () => {
  const latest: SoftwareDesiredState = { state: 'installed-latest', version: '2.0' };
  const pinned: SoftwareDesiredState = { state: 'installed-specific', version: '2.0' };

  it('installs the latest when absent, updates when older and leaves equal or newer alone', () => {
    expect(decide(latest, null)).toBe('install');
    expect(decide(latest, '1.9.5')).toBe('update');
    expect(decide(latest, '2.0.0')).toBe('no-action');
    expect(decide(latest, '2.1')).toBe('no-action');
  });

  it('moves a specific version up or down and installs it when absent', () => {
    expect(decide(pinned, null)).toBe('install');
    expect(decide(pinned, '1.0')).toBe('update');
    expect(decide(pinned, '3.0')).toBe('downgrade');
    expect(decide(pinned, '2')).toBe('no-action');
  });

  it('accepts any version but installs when absent', () => {
    const any: SoftwareDesiredState = { state: 'any', version: '2.0' };
    expect(decide(any, null)).toBe('install');
    expect(decide(any, '0.1')).toBe('no-action');
  });

  it('updates only software that is present and older when asked to update if found', () => {
    const ifFound: SoftwareDesiredState = { state: 'update-if-found', version: '2.0' };
    expect(decide(ifFound, null)).toBe('no-action');
    expect(decide(ifFound, '1.0')).toBe('update');
    expect(decide(ifFound, '2.0')).toBe('no-action');
  });

  it('uninstalls present software when it should be uninstalled, and ignores ignored software', () => {
    expect(decide({ state: 'uninstalled' }, '1.0')).toBe('uninstall');
    expect(decide({ state: 'uninstalled' }, null)).toBe('no-action');
    expect(decide({ state: 'ignored' }, null)).toBe('no-action');
    expect(decide({ state: 'ignored' }, '1.0')).toBe('no-action');
  });

  it('reinstalls compliant installed software only when a reinstall is forced', () => {
    expect(decide(pinned, '2.0', true)).toBe('reinstall');
    expect(decide(latest, '2.0', true)).toBe('reinstall');
    expect(decide({ state: 'any', version: '2.0' }, '2.0', true)).toBe('no-action');
  });

  it('counts a verified version as reached with the same rule detection uses', () => {
    expect(isDesiredStateReached(pinned, parseVersion('2.0.0.1'))).toBe(false);
    expect(isDesiredStateReached(latest, parseVersion('2.0.0.1'))).toBe(true);
    expect(isDesiredStateReached({ state: 'uninstalled' }, null)).toBe(true);
  });
});
