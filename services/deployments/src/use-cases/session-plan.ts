import type { CommandSecretBinding, CommandSecrets, SecretCipher } from '@converge/store';
import type {
  ExecutionContext,
  MaintenanceTaskDocument,
  ScriptDocument,
  ScriptLanguage,
  SoftwareDocument,
} from '../data-access/catalog.schemas.ts';
import type { StoredParameterValue } from '../data-access/deployment.repository.ts';
import {
  desiredVersionOf,
  PlanNotRunnableError,
  softwareScripts,
  taskScripts,
  type ScriptStep,
} from '../domain/item-scripts.ts';
import { earlierPrerequisites, type PlannedItem } from '../domain/maintenance-plan.ts';
import { parameterText, type ParameterValue } from '../domain/task-parameters.ts';
import type { DesiredState, MaintenanceItemRef } from '../domain/types.ts';
import { taskSecretContext } from './catalog.ts';
import { deploymentSecretContext } from './deployments.ts';

/** The catalog and deployment details a session needs, read with the estate and cached with it. */
export interface SessionCatalog {
  software: ReadonlyMap<string, SoftwareDocument>;
  maintenanceTasks: ReadonlyMap<string, MaintenanceTaskDocument>;
  /** Every live script, without its history of replaced bodies. */
  scripts: ReadonlyMap<string, Omit<ScriptDocument, 'history' | 'outbox'>>;
  /** Stored parameter values by deployment id (deployments of tasks only). */
  parameterValues: ReadonlyMap<string, readonly StoredParameterValue[]>;
}

export interface SessionScript {
  step: ScriptStep;
  scriptId: string;
  language: ScriptLanguage;
  executionContext: ExecutionContext;
  body: string;
  timeoutSeconds: number;
  methodParameter: boolean;
}

/** One planned item with everything a maintenance session needs to run it without asking again. */
export interface SessionPlanItem {
  maintenanceItem: MaintenanceItemRef;
  name: string;
  deploymentId: string | null;
  desiredState: Exclude<DesiredState, { state: 'ignored' }>;
  /** Software: the pinned version or the catalog's newest; null for uninstalled software and for tasks. */
  desiredVersion: string | null;
  /** The software ids this item was added for as a prerequisite. */
  prerequisiteOf: string[];
  /** Ids of earlier items that must succeed first. */
  prerequisites: string[];
  scripts: SessionScript[];
  /** Task parameters as text, secrets left out; empty for software. */
  parameters: Map<string, string>;
  /** Task secrets, each sealed for the agent's command (see `PlanSecrets`); empty for software. */
  sealedParameters: Map<string, string>;
}

/**
 * How a plan's secrets change hands: opened from storage (`DEPLOYMENT_SECRETS_KEY`) and sealed at once for the
 * gateway (`COMMAND_SECRETS_KEY`), bound to the tenant, agent and session asking, so no clear value leaves
 * deployments and sessions never holds a key that opens one.
 */
export interface PlanSecrets {
  stored: SecretCipher;
  commands: CommandSecrets;
  binding: CommandSecretBinding;
}

function isActive(
  item: PlannedItem,
): item is PlannedItem & { desiredState: Exclude<DesiredState, { state: 'ignored' }> } {
  return item.desiredState.state !== 'ignored';
}

/**
 * The plan of a resolution as a session runs it: ignored items left out, each item with its name, version,
 * scripts and parameter values. Throws `PlanNotRunnableError` naming the item and step when the catalog
 * lacks a script an item needs (or the item itself), so a session never starts a plan it cannot finish.
 * `executes` is false for a detection-only session, which needs detection alone.
 */
export function sessionPlan(
  plan: readonly PlannedItem[],
  catalog: SessionCatalog,
  secrets: PlanSecrets,
  executes: boolean,
): SessionPlanItem[] {
  const active = plan.filter(isActive);
  const prerequisites = earlierPrerequisites(active);
  return active.map((item, index) => {
    const { name, desiredVersion, scripts, parameters } = itemDetails(item, catalog, secrets, executes);
    const [missing] = scripts.missing;
    if (missing !== undefined) throw PlanNotRunnableError.missingScript(item.maintenanceItem, name, missing);
    return {
      maintenanceItem: item.maintenanceItem,
      name,
      deploymentId: item.deploymentId,
      desiredState: item.desiredState,
      desiredVersion,
      prerequisiteOf: [...new Set(item.prerequisiteOf.map((use) => use.softwareId))],
      prerequisites: prerequisites[index] ?? [],
      scripts: scripts.scripts.map((ref) => {
        // The catalog only lets an item use scripts its owner sees, so no tenant check is needed here.
        const script = catalog.scripts.get(ref.scriptId);
        // Deleted meanwhile (the catalog refuses to delete a script in use, so only a race gets here).
        if (!script) throw PlanNotRunnableError.missingScript(item.maintenanceItem, name, ref.step);
        return {
          step: ref.step,
          scriptId: ref.scriptId,
          language: script.language,
          executionContext: script.executionContext,
          body: script.body,
          timeoutSeconds: script.timeoutSeconds,
          methodParameter: ref.methodParameter,
        };
      }),
      ...parameters,
    };
  });
}

/** What the catalog (and, for a task, the winning deployment) says about one planned item. */
function itemDetails(
  item: PlannedItem & { desiredState: Exclude<DesiredState, { state: 'ignored' }> },
  catalog: SessionCatalog,
  secrets: PlanSecrets,
  executes: boolean,
) {
  const { kind, id } = item.maintenanceItem;
  if (kind === 'software') {
    const software = catalog.software.get(id);
    if (!software) throw PlanNotRunnableError.notInCatalog(item.maintenanceItem);
    const desiredVersion = desiredVersionOf(item.desiredState, software.versions);
    const scripts = softwareScripts(software, item.desiredState, desiredVersion, executes);
    return { name: software.name, desiredVersion, scripts, parameters: noParameters() };
  }
  const task = catalog.maintenanceTasks.get(id);
  if (!task) throw PlanNotRunnableError.notInCatalog(item.maintenanceItem);
  const stored = item.deploymentId === null ? undefined : catalog.parameterValues.get(item.deploymentId);
  return {
    name: task.name,
    desiredVersion: null,
    scripts: taskScripts(task, item.desiredState, executes),
    parameters: taskParameters(task, item.deploymentId, stored ?? [], secrets),
  };
}

type ItemParameters = Pick<SessionPlanItem, 'parameters' | 'sealedParameters'>;

function noParameters(): ItemParameters {
  return { parameters: new Map(), sealedParameters: new Map() };
}

/**
 * The winning deployment's values over the task's defaults, as text, for the task's current parameters
 * (a value kept for a parameter the task no longer has is not passed). Secrets are opened with the context
 * they were stored under and sealed again for the command at once. A parameter with neither is left out.
 */
function taskParameters(
  task: MaintenanceTaskDocument,
  deploymentId: string | null,
  stored: readonly StoredParameterValue[],
  secrets: PlanSecrets,
): ItemParameters {
  const given = new Map(stored.map((value) => [value.name, value]));
  const parameters = new Map<string, string>();
  const sealedParameters = new Map<string, string>();
  const cipher = secrets.stored;
  for (const definition of task.parameters) {
    const value = given.get(definition.name);
    let text: string | null = null;
    if (value?.sealed !== undefined && deploymentId !== null)
      text = cipher.open(value.sealed, deploymentSecretContext(deploymentId, definition.name));
    else if (value?.value !== undefined && value.value !== null)
      text = parameterText(value.value as ParameterValue);
    else if (definition.sealedDefault !== null)
      text = cipher.open(definition.sealedDefault, taskSecretContext(task._id, definition.name));
    else if (definition.defaultValue !== null) text = parameterText(definition.defaultValue);
    if (text === null) continue;
    if (definition.type === 'secret' || value?.sealed !== undefined)
      sealedParameters.set(definition.name, secrets.commands.seal(secrets.binding, definition.name, text));
    else parameters.set(definition.name, text);
  }
  return { parameters, sealedParameters };
}
