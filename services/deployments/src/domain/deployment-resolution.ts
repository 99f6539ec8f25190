import { isInCatalog, type CatalogIndex } from './catalog-index.ts';
import type { DirectoryIndex } from './directory-index.ts';
import {
  compareRankKeys,
  outranks,
  rankKeyOf,
  rankOrder,
  scopeRank,
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
 * The maintenance items some deployments are for, in the plan's base order (software, then maintenance
 * tasks, each by id), and each deployment's position in it. Resolution groups candidates by that position,
 * so it neither builds item keys nor sorts items per computer; a prepared estate computes it once.
 */
export interface ItemOrder {
  items: readonly MaintenanceItemRef[];
  positionOf: ReadonlyMap<Deployment, number>;
}

export function orderItems(deployments: readonly Deployment[]): ItemOrder {
  const first = new Map<string, MaintenanceItemRef>();
  for (const deployment of deployments) {
    const key = itemKey(deployment.maintenanceItem);
    if (!first.has(key)) first.set(key, deployment.maintenanceItem);
  }
  const items = [...first.values()].sort(baseOrder);
  const positionOfKey = new Map(items.map((item, position) => [itemKey(item), position]));
  const positionOf = new Map<Deployment, number>();
  for (const deployment of deployments)
    positionOf.set(deployment, positionOfKey.get(itemKey(deployment.maintenanceItem)) ?? 0);
  return { items, positionOf };
}

/**
 * What a computer should have: the winning deployment per maintenance item, expanded with prerequisites
 * and ordered, and (unless `options.explain` is false) an explanation of every candidate. `candidates` may
 * hold deployments that do not apply (they are explained as dropped); `candidateDeployments` picks them
 * from a prepared estate.
 */
export function resolve(
  computer: Computer,
  candidates: readonly Deployment[],
  catalog: CatalogIndex,
  directory: DirectoryIndex,
  options: ResolveOptions,
): Resolution {
  return resolveInOrder(computer, candidates, orderItems(candidates), catalog, directory, options);
}

/** `resolve` with the item order already known; every candidate must have a position in `order`. */
export function resolveInOrder(
  computer: Computer,
  candidates: readonly Deployment[],
  order: ItemOrder,
  catalog: CatalogIndex,
  directory: DirectoryIndex,
  options: ResolveOptions,
): Resolution {
  if (options.explain === false) {
    return {
      computerId: computer.id,
      plan: planMaintenance(winnersOnly(computer, candidates, order, catalog, directory, options), catalog),
      explanations: [],
    };
  }
  const byPosition: (ItemCandidates | undefined)[] = [];
  for (const deployment of candidates) {
    const position = order.positionOf.get(deployment) ?? 0;
    let entry = byPosition[position];
    if (!entry)
      byPosition[position] = entry = { maintenanceItem: deployment.maintenanceItem, ranked: [], dropped: [] };
    const reason = dropReason(deployment, computer, catalog, directory, options);
    if (reason === null) entry.ranked.push({ deployment, key: rankKeyOf(deployment, computer, directory) });
    else entry.dropped.push({ deployment, reason });
  }

  const winners: Deployment[] = [];
  const explanations: ItemExplanation[] = [];
  for (const entry of byPosition) {
    if (!entry) continue;
    if (entry.ranked.length > 1) entry.ranked.sort((a, b) => rankOrder(a.key, b.key));
    const winner = entry.ranked[0];
    if (winner) winners.push(winner.deployment);
    explanations.push(explainItem(entry, winner));
  }
  return { computerId: computer.id, plan: planMaintenance(winners, catalog), explanations };
}

/**
 * The session's path: one linear pass keeps the best applicable deployment per item, with the same total
 * order the explanation sorts by, so the winners are those of the explained path without ranking losers.
 */
function winnersOnly(
  computer: Computer,
  candidates: readonly Deployment[],
  order: ItemOrder,
  catalog: CatalogIndex,
  directory: DirectoryIndex,
  options: ResolveOptions,
): Deployment[] {
  const best: (Deployment | undefined)[] = [];
  const bestScope: number[] = [];
  for (const deployment of candidates) {
    if (dropReason(deployment, computer, catalog, directory, options) !== null) continue;
    const position = order.positionOf.get(deployment) ?? 0;
    const scope = scopeRank(deployment, computer, directory);
    const current = best[position];
    if (current === undefined || outranks(deployment, scope, current, bestScope[position] ?? Infinity)) {
      best[position] = deployment;
      bestScope[position] = scope;
    }
  }
  const winners: Deployment[] = [];
  for (const deployment of best) if (deployment) winners.push(deployment);
  return winners;
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

function baseOrder(a: MaintenanceItemRef, b: MaintenanceItemRef): number {
  if (a.kind !== b.kind) return a.kind === 'software' ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
