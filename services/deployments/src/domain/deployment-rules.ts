import type { Action } from '@converge/access';
import { compareVersions } from '@converge/versions';
import { scopeOf, type Scope } from './target-matching.ts';
import type { DesiredState, MaintenanceItemKind, Target } from './types.ts';

/** The permission a deployment's scope asks for (the reference's user roles, in `@converge/access`). */
export function actionForScope(scope: Scope): Action {
  switch (scope) {
    case 'individual':
      return 'manage-individual-deployments';
    case 'single-tenant':
      return 'manage-tenant-deployments';
    case 'cross-tenant':
      return 'manage-cross-tenant-deployments';
  }
}

export function actionForTarget(target: Target): Action {
  return actionForScope(scopeOf(target));
}

const softwareStates: ReadonlySet<DesiredState['state']> = new Set([
  'ignored',
  'uninstalled',
  'installed-version',
  'installed-latest',
  'installed-any',
  'update-if-found',
]);
const taskStates: ReadonlySet<DesiredState['state']> = new Set([
  'ignored',
  'enforced',
  'audited',
  'monitored',
]);

/**
 * Why a desired state does not fit the maintenance item, or null. A pinned version must be one the
 * software's catalog entry lists (compared as versions, so `1.2` names `1.2.0.0`).
 */
export function desiredStateProblem(
  kind: MaintenanceItemKind,
  desiredState: DesiredState,
  softwareVersions: readonly string[],
): string | null {
  const allowed = kind === 'software' ? softwareStates : taskStates;
  if (!allowed.has(desiredState.state)) return `${desiredState.state} is not a desired state for ${kind}`;
  if (
    desiredState.state === 'installed-version' &&
    !softwareVersions.some((version) => compareVersions(version, desiredState.version) === 0)
  ) {
    return `version ${desiredState.version} is not in the software's versions`;
  }
  return null;
}

/** Newest first; false when two entries name the same version (`1.2` and `1.2.0` are one version). */
export function sortVersionsNewestFirst<T extends { version: string }>(versions: readonly T[]): T[] | false {
  const sorted = [...versions].sort((a, b) => compareVersions(b.version, a.version));
  const duplicate = sorted.some(
    (entry, index) => index > 0 && compareVersions(sorted[index - 1]?.version ?? '', entry.version) === 0,
  );
  return duplicate ? false : sorted;
}
