import { lineageOfTenant, type DirectoryIndex } from './directory-index.ts';
import { scopeOf } from './target-matching.ts';
import type { Computer, Deployment, DesiredStateName, DeviceFilter, TargetKind } from './types.ts';

// The order that picks one winning deployment per maintenance item on a computer. Each rule only breaks
// ties left by the rules before it; the last (deployment id) never ties, so the order is total.
// docs/resolution.md spells out the same order for people; keep the two in step.

export const rankingRules = [
  'scope',
  'target-kind',
  'device-filter',
  'desired-state',
  'priority',
  'deployment-id',
] as const;
export type RankingRule = (typeof rankingRules)[number];

/** Most specific first: an exception written for fewer computers beats the baseline it carves out of. */
export const targetKindOrder: readonly TargetKind[] = [
  'computer',
  'person',
  'entra-group',
  'tag',
  'psa-product',
  'psa-agreement',
  'tenant',
  'all-computers',
];

/** Narrowest first. A primary domain controller is a domain controller, which is a server. */
export const deviceFilterOrder: readonly DeviceFilter[] = [
  'primary-domain-controllers',
  'domain-controllers',
  'servers',
  'portable-devices',
  'workstations',
  'workstations-and-portable-devices',
  'all',
];

/**
 * Exceptions first: ignoring or removing software is what an override is usually written for. Then the
 * most exact install (a pinned version) down to the loosest (update only if already there). Task modes
 * run from the one that changes the computer (enforce) to the ones that only test (audit) or read (monitor).
 * Software and task states never compete with each other, since a maintenance item is one or the other.
 */
export const desiredStateOrder: readonly DesiredStateName[] = [
  'ignored',
  'uninstalled',
  'installed-version',
  'installed-latest',
  'installed-any',
  'update-if-found',
  'enforced',
  'audited',
  'monitored',
];

function positions<T extends string>(order: readonly T[]): Record<T, number> {
  return Object.fromEntries(order.map((name, index) => [name, index])) as Record<T, number>;
}
const targetKindPosition = positions(targetKindOrder);
const deviceFilterPosition = positions(deviceFilterOrder);
const desiredStatePosition = positions(desiredStateOrder);

/** A deployment's position on each rule for one computer; lower sorts first except priority. */
export interface RankKey {
  /**
   * 0 individual; 1 + n for single-tenant, where n is how many levels up the tenant tree the deployment
   * comes from (0 for the computer's own tenant, 1 for its parent...); Infinity for cross-tenant.
   */
  scope: number;
  targetKind: number;
  deviceFilter: number;
  desiredState: number;
  priority: number;
  deploymentId: string;
}

export function rankKeyOf(deployment: Deployment, computer: Computer, directory: DirectoryIndex): RankKey {
  return {
    scope: scopeRank(deployment, computer, directory),
    targetKind: targetKindPosition[deployment.target.kind],
    deviceFilter: deviceFilterPosition[deployment.deviceFilter],
    desiredState: desiredStatePosition[deployment.desiredState.state],
    priority: deployment.priority,
    deploymentId: deployment.id,
  };
}

export function scopeRank(deployment: Deployment, computer: Computer, directory: DirectoryIndex): number {
  const target = deployment.target;
  switch (scopeOf(target)) {
    case 'individual':
      return 0;
    case 'cross-tenant':
      return Infinity;
    case 'single-tenant':
      if (target.kind !== 'tenant' || !target.includeChildTenants) return 1;
      return 1 + Math.max(0, lineageOfTenant(directory, computer.tenantId).indexOf(target.tenantId));
  }
}

/** Which rule orders a before b (or b before a) and in which direction; `order` < 0 means a wins. */
export interface Comparison {
  order: number;
  rule: RankingRule;
}

export function compareRankKeys(a: RankKey, b: RankKey): Comparison {
  if (a.scope !== b.scope) return { order: a.scope < b.scope ? -1 : 1, rule: 'scope' };
  if (a.targetKind !== b.targetKind) return { order: a.targetKind - b.targetKind, rule: 'target-kind' };
  if (a.deviceFilter !== b.deviceFilter)
    return { order: a.deviceFilter - b.deviceFilter, rule: 'device-filter' };
  if (a.desiredState !== b.desiredState)
    return { order: a.desiredState - b.desiredState, rule: 'desired-state' };
  if (a.priority !== b.priority) return { order: b.priority - a.priority, rule: 'priority' };
  if (a.deploymentId !== b.deploymentId) {
    return { order: a.deploymentId < b.deploymentId ? -1 : 1, rule: 'deployment-id' };
  }
  // Only a deployment compared with itself gets here.
  return { order: 0, rule: 'deployment-id' };
}

/**
 * Whether `a` ranks ahead of `b`: the same total order as `compareRankKeys` on their keys, read straight
 * off the deployments so that picking a winner in a session allocates no keys. `aScope`/`bScope` are
 * their `scopeRank` on the computer being resolved.
 */
export function outranks(a: Deployment, aScope: number, b: Deployment, bScope: number): boolean {
  if (aScope !== bScope) return aScope < bScope;
  if (a.target.kind !== b.target.kind)
    return targetKindPosition[a.target.kind] < targetKindPosition[b.target.kind];
  if (a.deviceFilter !== b.deviceFilter)
    return deviceFilterPosition[a.deviceFilter] < deviceFilterPosition[b.deviceFilter];
  if (a.desiredState.state !== b.desiredState.state)
    return desiredStatePosition[a.desiredState.state] < desiredStatePosition[b.desiredState.state];
  if (a.priority !== b.priority) return a.priority > b.priority;
  return a.id < b.id;
}

/** The order alone, for sorting. */
export function rankOrder(a: RankKey, b: RankKey): number {
  return compareRankKeys(a, b).order;
}
