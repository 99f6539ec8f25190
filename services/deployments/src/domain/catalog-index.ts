import { ValidationError } from '@converge/errors';
import type { Catalog, MaintenanceItemRef, MaintenanceTask, Software } from './types.ts';

/** The catalog arranged for lookups, with its prerequisites checked for cycles. */
export interface CatalogIndex {
  software: ReadonlyMap<string, Software>;
  maintenanceTasks: ReadonlyMap<string, MaintenanceTask>;
}

/** Software whose prerequisites lead back to itself; `cycle` starts and ends with the same software id. */
export class PrerequisiteCycleError extends ValidationError {
  readonly cycle: readonly string[];

  constructor(cycle: readonly string[], names: ReadonlyMap<string, Software>) {
    const spelled = cycle.map((id) => `${names.get(id)?.name ?? id} (${id})`).join(' -> ');
    super(`software prerequisites form a cycle: ${spelled}`);
    this.cycle = cycle;
  }
}

/**
 * Only "install" prerequisites are edges: installing X first installs Y, so Y's own prerequisites follow.
 * An "uninstall" prerequisite removes software and does not pull in what that software needed, so
 * "uninstall the old edition of X before installing X" is allowed and is not a cycle.
 */
export function installPrerequisitesOf(software: Software): string[] {
  const ids: string[] = [];
  for (const prerequisite of software.prerequisites) {
    if (prerequisite.action.kind === 'install') ids.push(...prerequisite.action.softwareIds);
  }
  return ids;
}

/** Throws PrerequisiteCycleError naming the first cycle found (software visited in catalog order). */
export function indexCatalog(catalog: Catalog): CatalogIndex {
  const software = new Map(catalog.software.map((item) => [item.id, item]));
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();

  const visit = (id: string): void => {
    if (done.has(id)) return;
    if (onPath.has(id)) throw new PrerequisiteCycleError([...path.slice(path.indexOf(id)), id], software);
    const item = software.get(id);
    if (!item) return;
    path.push(id);
    onPath.add(id);
    for (const next of installPrerequisitesOf(item)) visit(next);
    path.pop();
    onPath.delete(id);
    done.add(id);
  };
  for (const item of catalog.software) visit(item.id);

  return { software, maintenanceTasks: new Map(catalog.maintenanceTasks.map((task) => [task.id, task])) };
}

export function isInCatalog(catalog: CatalogIndex, item: MaintenanceItemRef): boolean {
  return item.kind === 'software' ? catalog.software.has(item.id) : catalog.maintenanceTasks.has(item.id);
}
