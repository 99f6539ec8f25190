import { ConflictError } from '@converge/errors';
import { compareVersions, parseVersion } from '@converge/versions';
import type { DesiredState, MaintenanceItemRef, UpgradeStrategy } from './types.ts';

// Which scripts a maintenance session runs for a planned item, read off the catalog entry and the desired
// state. Pure: the edge loads the script bodies for the ids chosen here.

export const scriptSteps = ['detect', 'install', 'uninstall', 'upgrade', 'test', 'set', 'get'] as const;
export type ScriptStep = (typeof scriptSteps)[number];

/** A software version's own scripts, which override the software's. */
export interface VersionScriptIds {
  version: string;
  installScriptId: string | null;
  uninstallScriptId: string | null;
  upgradeScriptId: string | null;
}

export interface SoftwareScriptIds {
  detectionScriptId: string;
  installScriptId: string | null;
  uninstallScriptId: string | null;
  upgradeScriptId: string | null;
  upgradeStrategy: UpgradeStrategy;
  versions: readonly VersionScriptIds[];
}

/** Either test/set/get scripts, or one combined script told the method as a parameter. */
export interface TaskScriptIds {
  testScriptId: string | null;
  setScriptId: string | null;
  getScriptId: string | null;
  combinedScriptId: string | null;
}

export interface StepScriptRef {
  step: ScriptStep;
  scriptId: string;
  /** A combined task script: the session passes `method=test|set|get`. */
  methodParameter: boolean;
}

export interface ItemScripts {
  scripts: StepScriptRef[];
  /** Steps the item needs that the catalog gives no script. */
  missing: ScriptStep[];
}

/** A plan the session could not run: an item the catalog lacks, or a script one of its steps needs. */
export class PlanNotRunnableError extends ConflictError {
  readonly maintenanceItem: MaintenanceItemRef;
  /** The step without a script; null when the item itself is missing. */
  readonly step: ScriptStep | null;

  constructor(item: MaintenanceItemRef, step: ScriptStep | null, message: string) {
    super(message);
    this.maintenanceItem = item;
    this.step = step;
  }

  static missingScript(item: MaintenanceItemRef, name: string, step: ScriptStep): PlanNotRunnableError {
    return new PlanNotRunnableError(
      item,
      step,
      `${item.kind} ${name} (${item.id}) has no ${step} script, which its desired state needs`,
    );
  }

  static notInCatalog(item: MaintenanceItemRef): PlanNotRunnableError {
    return new PlanNotRunnableError(item, null, `${item.kind} ${item.id} is not in the catalog`);
  }
}

/**
 * The newest of the catalog's versions, or null when it lists none. Numeric versions by number; an opaque
 * version (`nightly`, `2024-R1`) is never newer than a numeric one (`isNewerVersion`), so it is the newest
 * only when the catalog lists no numeric version. (The catalog's own list sorts opaque versions first.)
 */
export function newestVersion(versions: readonly { version: string }[]): string | null {
  let newest: { version: string; numeric: boolean } | null = null;
  for (const { version } of versions) {
    const numeric = parseVersion(version) !== null;
    if (
      newest === null ||
      (numeric && !newest.numeric) ||
      (numeric === newest.numeric && compareVersions(version, newest.version) > 0)
    )
      newest = { version, numeric };
  }
  return newest?.version ?? null;
}

/**
 * The version a software item is brought to: the pinned one, the catalog's newest for the states that
 * install or update, none for uninstalled (or ignored) software.
 */
export function desiredVersionOf(
  desired: DesiredState,
  versions: readonly { version: string }[],
): string | null {
  switch (desired.state) {
    case 'installed-version':
      return desired.version;
    case 'installed-latest':
    case 'installed-any':
    case 'update-if-found':
      return newestVersion(versions);
    default:
      return null;
  }
}

/** Whether a step's script is needed (a missing one stops the plan) or only passed on when there is one. */
type Need = 'required' | 'optional';

function collect(
  wanted: readonly { step: ScriptStep; scriptId: string | null; need: Need; methodParameter?: boolean }[],
): ItemScripts {
  const result: ItemScripts = { scripts: [], missing: [] };
  for (const { step, scriptId, need, methodParameter } of wanted) {
    if (scriptId !== null) result.scripts.push({ step, scriptId, methodParameter: methodParameter ?? false });
    else if (need === 'required') result.missing.push(step);
  }
  return result;
}

/**
 * A software item's scripts. Detection always; uninstalled software the uninstall script; the other states
 * the install script, the upgrade script when the strategy is `upgrade-script` (not for `installed-any`,
 * which never upgrades), and the uninstall script, when there is one, for `uninstall-then-install`. Install,
 * uninstall and upgrade come from `version`'s own entry where it has one, else from the software. A
 * session that only detects (`executes: false`) needs nothing but detection; the rest comes along when the
 * catalog has it.
 */
export function softwareScripts(
  software: SoftwareScriptIds,
  desired: DesiredState,
  version: string | null,
  executes: boolean,
): ItemScripts {
  const entry =
    version === null
      ? undefined
      : (software.versions.find((candidate) => candidate.version === version) ??
        software.versions.find((candidate) => compareVersions(candidate.version, version) === 0));
  const install = entry?.installScriptId ?? software.installScriptId;
  const uninstall = entry?.uninstallScriptId ?? software.uninstallScriptId;
  const upgrade = entry?.upgradeScriptId ?? software.upgradeScriptId;
  const action: Need = executes ? 'required' : 'optional';
  const detect = { step: 'detect', scriptId: software.detectionScriptId, need: 'required' } as const;

  switch (desired.state) {
    case 'uninstalled':
      return collect([detect, { step: 'uninstall', scriptId: uninstall, need: action }]);
    case 'installed-latest':
    case 'installed-version':
    case 'installed-any':
    case 'update-if-found': {
      const strategy = software.upgradeStrategy;
      const upgrades = strategy === 'upgrade-script' && desired.state !== 'installed-any';
      // Where software is only ever upgraded (found, upgrade script), installing is never the session's job.
      const installs = !(desired.state === 'update-if-found' && strategy === 'upgrade-script');
      return collect([
        detect,
        { step: 'install', scriptId: install, need: installs ? action : 'optional' },
        ...(strategy === 'uninstall-then-install'
          ? [{ step: 'uninstall', scriptId: uninstall, need: 'optional' } as const]
          : []),
        ...(upgrades ? [{ step: 'upgrade', scriptId: upgrade, need: action } as const] : []),
      ]);
    }
    default:
      return collect([detect]);
  }
}

/**
 * A maintenance task's scripts for its mode: enforced tests and sets, audited tests, monitored gets. A
 * combined script stands in for each method with `methodParameter`. A session that only detects needs the
 * test (or get) alone.
 */
export function taskScripts(task: TaskScriptIds, desired: DesiredState, executes: boolean): ItemScripts {
  const methods: { step: 'test' | 'set' | 'get'; need: Need }[] =
    desired.state === 'enforced'
      ? [
          { step: 'test', need: 'required' },
          { step: 'set', need: executes ? 'required' : 'optional' },
        ]
      : desired.state === 'audited'
        ? [{ step: 'test', need: 'required' }]
        : desired.state === 'monitored'
          ? [{ step: 'get', need: 'required' }]
          : [];
  const own = { test: task.testScriptId, set: task.setScriptId, get: task.getScriptId };
  return collect(
    methods.map(({ step, need }) =>
      task.combinedScriptId !== null
        ? { step, scriptId: task.combinedScriptId, need, methodParameter: true }
        : { step, scriptId: own[step], need },
    ),
  );
}
