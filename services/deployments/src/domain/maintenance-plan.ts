import type { CatalogIndex } from './catalog-index.ts';
import type { Deployment, DesiredState, MaintenanceItemRef, PrerequisiteCondition } from './types.ts';

/** A software's prerequisite that put another software into the plan. */
export interface PrerequisiteUse {
  /** The software that needs it. */
  softwareId: string;
  /** Checked by the session's detection stage; the action runs only when it holds. */
  condition: PrerequisiteCondition;
  action: 'install' | 'uninstall';
}

/** One maintenance item the computer should be brought to, in the order the session acts on them. */
export interface PlannedItem {
  maintenanceItem: MaintenanceItemRef;
  desiredState: DesiredState;
  /** The winning deployment, or null when the item is only here as another software's prerequisite. */
  deploymentId: string | null;
  prerequisiteOf: PrerequisiteUse[];
}

const installFromPrerequisite: DesiredState = { state: 'installed-latest' };
const uninstallFromPrerequisite: DesiredState = { state: 'uninstalled' };

/** States that act on software as present, so what it needs must be present (or absent) first. */
function installs(state: DesiredState): boolean {
  return state.state !== 'ignored' && state.state !== 'uninstalled';
}

/**
 * Orders the winning deployments into a plan. Base order: software before maintenance tasks, each by id.
 * Each software that is to be installed is preceded by its install/uninstall prerequisites, recursively
 * (the catalog index has already rejected cycles). An item appears once: where it has a winning deployment
 * that deployment's desired state stands, and the prerequisite is only recorded and moves it earlier;
 * otherwise the first prerequisite that reaches it sets the state. "fail" prerequisites add no item; they
 * stay on the software in the catalog for the session to check.
 */
export function planMaintenance(winners: readonly Deployment[], catalog: CatalogIndex): PlannedItem[] {
  const winnerOfSoftware = new Map<string, Deployment>();
  for (const deployment of winners) {
    if (deployment.maintenanceItem.kind === 'software')
      winnerOfSoftware.set(deployment.maintenanceItem.id, deployment);
  }
  // Software placed so far, by id (tasks have no prerequisites and are placed once each).
  const planned = new Map<string, PlannedItem>();
  const plan: PlannedItem[] = [];

  const placeSoftware = (
    softwareId: string,
    stateIfNoWinner: DesiredState,
    use: PrerequisiteUse | null,
  ): void => {
    const existing = planned.get(softwareId);
    if (existing) {
      if (use) existing.prerequisiteOf.push(use);
      return;
    }
    const winner = winnerOfSoftware.get(softwareId);
    const item: PlannedItem = {
      maintenanceItem: { kind: 'software', id: softwareId },
      desiredState: winner ? winner.desiredState : stateIfNoWinner,
      deploymentId: winner ? winner.id : null,
      prerequisiteOf: use ? [use] : [],
    };
    // Reserve the slot before recursing so a software reached twice on one chain is placed once.
    planned.set(softwareId, item);
    const software = catalog.software.get(softwareId);
    if (software && installs(item.desiredState)) {
      for (const prerequisite of software.prerequisites) {
        const action = prerequisite.action;
        if (action.kind === 'fail') continue;
        for (const requiredId of action.softwareIds) {
          placeSoftware(
            requiredId,
            action.kind === 'install' ? installFromPrerequisite : uninstallFromPrerequisite,
            { softwareId, condition: prerequisite.condition, action: action.kind },
          );
        }
      }
    }
    plan.push(item);
  };

  const ordered = [...winners].sort(baseOrder);
  for (const deployment of ordered) {
    const item = deployment.maintenanceItem;
    if (item.kind === 'software') {
      placeSoftware(item.id, deployment.desiredState, null);
    } else {
      plan.push({
        maintenanceItem: item,
        desiredState: deployment.desiredState,
        deploymentId: deployment.id,
        prerequisiteOf: [],
      });
    }
  }
  return plan;
}

function baseOrder(a: Deployment, b: Deployment): number {
  if (a.maintenanceItem.kind !== b.maintenanceItem.kind)
    return a.maintenanceItem.kind === 'software' ? -1 : 1;
  return a.maintenanceItem.id < b.maintenanceItem.id
    ? -1
    : a.maintenanceItem.id > b.maintenanceItem.id
      ? 1
      : 0;
}

/**
 * For each item of a plan, in order, the ids of the EARLIER items that were added as its prerequisites and
 * so must succeed before it changes anything (the inverse of `prerequisiteOf`). A prerequisite placed after
 * its dependent (an uninstall prerequisite of software that was itself already on the chain) is left out:
 * plan order alone must be enough to run prerequisites first.
 */
export function earlierPrerequisites(plan: readonly PlannedItem[]): string[][] {
  const position = new Map(plan.map((item, index) => [item.maintenanceItem.id, index]));
  const prerequisites: Set<string>[] = plan.map(() => new Set());
  plan.forEach((item, index) => {
    for (const use of item.prerequisiteOf) {
      const dependent = position.get(use.softwareId);
      if (dependent !== undefined && dependent > index)
        prerequisites[dependent]?.add(item.maintenanceItem.id);
    }
  });
  return prerequisites.map((ids) => [...ids]);
}
