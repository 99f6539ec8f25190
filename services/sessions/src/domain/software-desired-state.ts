import type { ActionType, SoftwareDesiredState } from './maintenance-session.ts';
import { compareParsedVersions, parseVersion, type Version } from '@converge/versions';

/**
 * Whether detected software (null: absent) satisfies its desired state. Detection and verification share this
 * rule, so an action is needed exactly when verification would fail without it.
 * Installed-latest accepts a newer version than the catalog's latest: the computer is ahead, not behind.
 */
export function isDesiredStateReached(desired: SoftwareDesiredState, detected: Version | null): boolean {
  switch (desired.state) {
    case 'ignored':
      return true;
    case 'uninstalled':
      return detected === null;
    case 'any':
      return detected !== null;
    case 'installed-latest':
      return detected !== null && compareParsedVersions(detected, wanted(desired.version)) >= 0;
    case 'installed-specific':
      return detected !== null && compareParsedVersions(detected, wanted(desired.version)) === 0;
    case 'update-if-found':
      return detected === null || compareParsedVersions(detected, wanted(desired.version)) >= 0;
  }
}

/** The action that brings detected software to its desired state. */
export function decideSoftwareAction(
  desired: SoftwareDesiredState,
  detected: Version | null,
  forceReinstall: boolean,
): ActionType {
  if (isDesiredStateReached(desired, detected)) {
    const reinstallable = desired.state === 'installed-latest' || desired.state === 'installed-specific';
    return forceReinstall && reinstallable && detected !== null ? 'reinstall' : 'no-action';
  }
  if (desired.state === 'uninstalled') return 'uninstall';
  if (detected === null) return 'install';
  // Only the version-carrying states reach here with software present and not compliant.
  if (!('version' in desired)) return 'no-action';
  return compareParsedVersions(detected, wanted(desired.version)) < 0 ? 'update' : 'downgrade';
}

function wanted(version: string): Version {
  // Plans are validated on receipt, so a desired version always parses.
  return parseVersion(version) ?? [0, 0, 0, 0];
}
