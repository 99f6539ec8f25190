import { isInCatalog, type CatalogIndex } from './catalog-index.ts';
import type { DirectoryIndex } from './directory-index.ts';
import {
  compareRankKeys,
  rankKeyOf,
  rankOrder,
  type RankKey,
  type RankingRule,
} from './deployment-ranking.ts';
import { planMaintenance, type PlannedItem } from './maintenance-plan.ts';
import { matchesDeviceFilter, matchTarget, scopeOf } from './target-matching.ts';
import {
  itemKey,
  type Computer,
  type Deployment,
  type MaintenanceItemRef,
  type ResolveOptions,
} from './types.ts';

/** Why a candidate deployment does not apply to a computer in this session, in the order they are checked. */
export const dropReasons = [
  'disabled',
  'not-in-catalog',
  'not-the-single-item',
  'onboarding-only',
  'ad-hoc-only',
  'computer-excluded-from-maintenance',
  'tenant-excluded-from-cross-tenant',
  'psa-inactive',
  'target-not-matched',
  'device-filter-not-matched',
] as const;
export type DropReason = (typeof dropReasons)[number];

export type CandidateExplanation =
  | { deploymentId: string; outcome: 'dropped'; reason: DropReason }
  | {
      deploymentId: string;
      outcome: 'ranked';
      /** 1 for the winner. */
      rank: number;
      /**
       * For the winner: the rule that put it ahead of the runner-up (null when it was alone).
       * For the others: the rule on which they lost to the winner.
       */
      decidedBy: RankingRule | null;
    };

export interface ItemExplanation {
  maintenanceItem: MaintenanceItemRef;
  winnerDeploymentId: string | null;
  /** Ranked candidates by rank, then dropped ones by deployment id. */
  candidates: CandidateExplanation[];
}

export interface Resolution {
  computerId: string;
  plan: PlannedItem[];
  /** One per maintenance item any candidate deployment was for: software, then maintenance tasks, each by id. */
  explanations: ItemExplanation[];
}

export function dropReason(
  deployment: Deployment,
  computer: Computer,
  catalog: CatalogIndex,
  directory: DirectoryIndex,
  options: ResolveOptions,
): DropReason | null {
  if (!deployment.enabled) return 'disabled';
  if (!isInCatalog(catalog, deployment.maintenanceItem)) return 'not-in-catalog';
  if (
    options.sessionKind === 'single-item' &&
    itemKey(deployment.maintenanceItem) !== options.singleItemKey
  ) {
    return 'not-the-single-item';
  }
  if (deployment.enforcement === 'onboarding' && options.sessionKind !== 'onboarding')
    return 'onboarding-only';
  if (deployment.enforcement === 'ad-hoc' && options.adHoc !== true) return 'ad-hoc-only';
  if (computer.excludedFromMaintenance) return 'computer-excluded-from-maintenance';
  if (
    scopeOf(deployment.target) === 'cross-tenant' &&
    directory.tenants.get(computer.tenantId)?.excludedFromCrossTenantDeployments === true
  ) {
    return 'tenant-excluded-from-cross-tenant';
  }
  const match = matchTarget(computer, deployment.target, directory, options.now);
  if (match === 'psa-inactive') return 'psa-inactive';
  if (match === 'not-matched') return 'target-not-matched';
  if (!matchesDeviceFilter(computer, deployment.deviceFilter)) return 'device-filter-not-matched';
  return null;
}

interface Ranked {
  deployment: Deployment;
  key: RankKey;
}

interface ItemCandidates {
  maintenanceItem: MaintenanceItemRef;
  ranked: Ranked[];
  dropped: { deployment: Deployment; reason: DropReason }[];
}

/**
 * What a computer should have: the winning deployment per maintenance item, expanded with prerequisites
 * and ordered, and an explanation of every candidate. `candidates` may hold deployments that do not
 * apply (they are explained as dropped); `candidateDeployments` picks them from a prepared estate.
 */
export function resolve(
  computer: Computer,
  candidates: readonly Deployment[],
  catalog: CatalogIndex,
  directory: DirectoryIndex,
  options: ResolveOptions,
): Resolution {
  // Grouped per kind by id rather than by a concatenated item key: this loop runs for every candidate of
  // every computer, and building strings there is what dominated its cost.
  const softwareItems = new Map<string, ItemCandidates>();
  const taskItems = new Map<string, ItemCandidates>();
  for (const deployment of candidates) {
    const item = deployment.maintenanceItem;
    const items = item.kind === 'software' ? softwareItems : taskItems;
    let entry = items.get(item.id);
    if (!entry) items.set(item.id, (entry = { maintenanceItem: item, ranked: [], dropped: [] }));
    const reason = dropReason(deployment, computer, catalog, directory, options);
    if (reason === null) entry.ranked.push({ deployment, key: rankKeyOf(deployment, computer, directory) });
    else entry.dropped.push({ deployment, reason });
  }

  const winners: Deployment[] = [];
  const explanations: ItemExplanation[] = [];
  for (const items of [softwareItems, taskItems]) {
    for (const [, entry] of [...items].sort((a, b) => byOrdinal(a[0], b[0]))) {
      if (entry.ranked.length > 1) entry.ranked.sort((a, b) => rankOrder(a.key, b.key));
      const winner = entry.ranked[0];
      if (winner) winners.push(winner.deployment);
      explanations.push(explainItem(entry, winner));
    }
  }
  return { computerId: computer.id, plan: planMaintenance(winners, catalog), explanations };
}

function explainItem(entry: ItemCandidates, winner: Ranked | undefined): ItemExplanation {
  const candidates: CandidateExplanation[] = entry.ranked.map((ranked, index) => {
    let decidedBy: RankingRule | null;
    if (winner && index > 0) decidedBy = compareRankKeys(winner.key, ranked.key).rule;
    else {
      const runnerUp = entry.ranked[1];
      decidedBy = runnerUp ? compareRankKeys(ranked.key, runnerUp.key).rule : null;
    }
    return { deploymentId: ranked.deployment.id, outcome: 'ranked', rank: index + 1, decidedBy };
  });
  const dropped = [...entry.dropped].sort((a, b) => (a.deployment.id < b.deployment.id ? -1 : 1));
  for (const { deployment, reason } of dropped) {
    candidates.push({ deploymentId: deployment.id, outcome: 'dropped', reason });
  }
  return {
    maintenanceItem: entry.maintenanceItem,
    winnerDeploymentId: winner?.deployment.id ?? null,
    candidates,
  };
}

/** The deployment that wins among `rivals` (all for one maintenance item), or null when none applies. */
export function winnerAmong(
  rivals: readonly Deployment[],
  computer: Computer,
  catalog: CatalogIndex,
  directory: DirectoryIndex,
  options: ResolveOptions,
): Deployment | null {
  let best: Ranked | null = null;
  for (const deployment of rivals) {
    if (dropReason(deployment, computer, catalog, directory, options) !== null) continue;
    const key = rankKeyOf(deployment, computer, directory);
    if (best === null || rankOrder(key, best.key) < 0) best = { deployment, key };
  }
  return best?.deployment ?? null;
}

function byOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
