import { randomUUID } from 'node:crypto';
import { authorize, tenantScopeOf } from '@converge/access';
import type { Principal } from '@converge/auth';
import { ConflictError, ValidationError, type FieldError } from '@converge/errors';
import type { PageRequest, SecretCipher } from '@converge/store';
import type { CatalogRepository } from '../data-access/catalog.repository.ts';
import type {
  CatalogDocument,
  ExecutionContext,
  MaintenanceTaskDocument,
  ScriptDocument,
  ScriptLanguage,
  SoftwareDocument,
  StoredParameterDefinition,
  UpgradeStrategy,
} from '../data-access/catalog.schemas.ts';
import type { DeploymentRepository } from '../data-access/deployment.repository.ts';
import type { EstateGenerationRepository } from '../data-access/estate-generation.repository.ts';
import { changeActor } from '../domain/audit-entry.ts';
import { indexCatalog } from '../domain/catalog-index.ts';
import { sortVersionsNewestFirst } from '../domain/deployment-rules.ts';
import { parameterDefinitionProblems, type ParameterDefinition } from '../domain/task-parameters.ts';
import type { Prerequisite } from '../domain/types.ts';
import { authorizeCatalogOwner, referenceScope } from './catalog-owner.ts';

export interface ScriptInput {
  /** The version a change is made against. */
  version?: number;
  tenantId?: string | null;
  name: string;
  language: ScriptLanguage;
  executionContext: ExecutionContext;
  body: string;
  timeoutSeconds: number;
}

export interface SoftwareVersionInput {
  version: string;
  installerReference: string;
  releasedAt?: string | null;
  installScriptId?: string | null;
  uninstallScriptId?: string | null;
  upgradeScriptId?: string | null;
}

export interface SoftwareInput {
  /** The version a change is made against. */
  version?: number;
  tenantId?: string | null;
  name: string;
  detectionScriptId: string;
  installScriptId?: string | null;
  uninstallScriptId?: string | null;
  upgradeScriptId?: string | null;
  upgradeStrategy: UpgradeStrategy;
  rebootNeeded: boolean;
  versions: SoftwareVersionInput[];
  prerequisites: Prerequisite[];
}

export type ParameterInput = Partial<Omit<ParameterDefinition, 'name' | 'type'>> &
  Pick<ParameterDefinition, 'name' | 'type'>;

export interface MaintenanceTaskInput {
  /** The version a change is made against. */
  version?: number;
  tenantId?: string | null;
  name: string;
  targetCategory: 'computer' | 'tenant';
  testScriptId?: string | null;
  setScriptId?: string | null;
  getScriptId?: string | null;
  combinedScriptId?: string | null;
  parameters: ParameterInput[];
}

export interface CatalogDeps {
  scripts: CatalogRepository<ScriptDocument>;
  software: CatalogRepository<SoftwareDocument>;
  maintenanceTasks: CatalogRepository<MaintenanceTaskDocument>;
  deployments: DeploymentRepository;
  generation: EstateGenerationRepository;
  cipher: SecretCipher;
}

/** Sealed secret defaults are bound to their task and parameter (see `SecretCipher`). */
export function taskSecretContext(taskId: string, parameter: string): string {
  return `maintenance-task:${taskId}:${parameter}`;
}

function fail(problems: FieldError[]): void {
  if (problems.length > 0) throw new ValidationError('the catalog item is not valid', problems);
}

/** The catalog use cases: reads for everyone in scope, changes for catalog managers of the item's owner. */
export class CatalogUseCases {
  private readonly deps: CatalogDeps;

  constructor(deps: CatalogDeps) {
    this.deps = deps;
  }

  list<T extends CatalogDocument>(
    principal: Principal,
    repository: CatalogRepository<T>,
    request: PageRequest,
    name?: string,
  ) {
    authorize(principal, 'read');
    return repository.list(tenantScopeOf(principal), request, name === undefined ? {} : { name });
  }

  get<T extends CatalogDocument>(principal: Principal, repository: CatalogRepository<T>, id: string) {
    authorize(principal, 'read');
    return repository.get(tenantScopeOf(principal), id);
  }

  /** Loads an item for a change, checking the caller may manage items of its owner. */
  private async forChange<T extends CatalogDocument>(
    principal: Principal,
    repository: CatalogRepository<T>,
    id: string,
    expectedVersion: number,
  ): Promise<T> {
    authorize(principal, 'manage-catalog');
    const current = await repository.get(tenantScopeOf(principal), id);
    authorizeCatalogOwner(principal, current.tenantId);
    if (current.version !== expectedVersion)
      throw new ConflictError(`the item changed since version ${expectedVersion}; reload and retry`);
    return current;
  }

  private async checkScripts(owner: string | null, references: Record<string, string | null | undefined>) {
    const ids = Object.values(references).filter((id): id is string => typeof id === 'string');
    const found = await this.deps.scripts.findMany(referenceScope(owner), ids);
    fail(
      Object.entries(references)
        .filter(([, id]) => typeof id === 'string' && !found.has(id))
        .map(([path]) => ({ path, message: 'no such script usable by this item' })),
    );
  }

  async createScript(principal: Principal, input: ScriptInput): Promise<ScriptDocument> {
    const owner = authorizeCatalogOwner(principal, input.tenantId);
    const doc = await this.deps.scripts.insert(
      {
        _id: randomUUID(),
        tenantId: owner,
        name: input.name,
        language: input.language,
        executionContext: input.executionContext,
        body: input.body,
        timeoutSeconds: input.timeoutSeconds,
        history: [],
      },
      new Date(),
      changeActor(principal),
    );
    // Session plans carry script bodies from the cached estate, so script changes move it on too.
    await this.deps.generation.advance();
    return doc;
  }

  async updateScript(principal: Principal, id: string, version: number, input: ScriptInput) {
    const current = await this.forChange(principal, this.deps.scripts, id, version);
    const now = new Date();
    const doc = await this.deps.scripts.update(
      current,
      {
        name: input.name,
        language: input.language,
        executionContext: input.executionContext,
        body: input.body,
        timeoutSeconds: input.timeoutSeconds,
      },
      now,
      changeActor(principal),
      { $push: { history: { version: current.version, body: current.body, changedAt: now } } },
    );
    await this.deps.generation.advance();
    return doc;
  }

  private async softwareFields(owner: string | null, id: string, input: SoftwareInput) {
    const versions = sortVersionsNewestFirst(input.versions);
    if (versions === false) {
      throw new ValidationError('the catalog item is not valid', [
        { path: '/body/versions', message: 'versions must be distinct' },
      ]);
    }
    const references: Record<string, string | null | undefined> = {
      '/body/detectionScriptId': input.detectionScriptId,
      '/body/installScriptId': input.installScriptId,
      '/body/uninstallScriptId': input.uninstallScriptId,
      '/body/upgradeScriptId': input.upgradeScriptId,
    };
    input.versions.forEach((version, index) => {
      references[`/body/versions/${index}/installScriptId`] = version.installScriptId;
      references[`/body/versions/${index}/uninstallScriptId`] = version.uninstallScriptId;
      references[`/body/versions/${index}/upgradeScriptId`] = version.upgradeScriptId;
    });
    await this.checkScripts(owner, references);
    if (input.upgradeStrategy === 'upgrade-script' && !input.upgradeScriptId)
      fail([
        { path: '/body/upgradeScriptId', message: 'the upgrade-script strategy needs an upgrade script' },
      ]);

    const required = input.prerequisites.flatMap((prerequisite) => [
      ...prerequisite.condition.softwareIds,
      ...(prerequisite.action.kind === 'fail' ? [] : prerequisite.action.softwareIds),
    ]);
    const known = await this.deps.software.findMany(referenceScope(owner), required);
    fail(
      required
        .filter((softwareId) => softwareId !== id && !known.has(softwareId))
        .map((softwareId) => ({ path: '/body/prerequisites', message: `no such software: ${softwareId}` })),
    );

    // Cycles are rejected here, naming the cycle, so the catalog resolution reads never has one.
    const others = (await this.deps.software.all()).filter((software) => software._id !== id);
    indexCatalog({
      software: [
        ...others.map((software) => ({
          id: software._id,
          name: software.name,
          prerequisites: software.prerequisites,
        })),
        { id, name: input.name, prerequisites: input.prerequisites },
      ],
      maintenanceTasks: [],
    });

    return {
      name: input.name,
      detectionScriptId: input.detectionScriptId,
      installScriptId: input.installScriptId ?? null,
      uninstallScriptId: input.uninstallScriptId ?? null,
      upgradeScriptId: input.upgradeScriptId ?? null,
      upgradeStrategy: input.upgradeStrategy,
      rebootNeeded: input.rebootNeeded,
      versions: versions.map((version) => ({
        version: version.version.trim(),
        installerReference: version.installerReference,
        releasedAt: version.releasedAt ? new Date(version.releasedAt) : null,
        installScriptId: version.installScriptId ?? null,
        uninstallScriptId: version.uninstallScriptId ?? null,
        upgradeScriptId: version.upgradeScriptId ?? null,
      })),
      prerequisites: input.prerequisites,
    };
  }

  async createSoftware(principal: Principal, input: SoftwareInput): Promise<SoftwareDocument> {
    const owner = authorizeCatalogOwner(principal, input.tenantId);
    const id = randomUUID();
    const fields = await this.softwareFields(owner, id, input);
    const doc = await this.deps.software.insert(
      { _id: id, tenantId: owner, ...fields },
      new Date(),
      changeActor(principal),
    );
    await this.deps.generation.advance();
    return doc;
  }

  async updateSoftware(principal: Principal, id: string, version: number, input: SoftwareInput) {
    const current = await this.forChange(principal, this.deps.software, id, version);
    const fields = await this.softwareFields(current.tenantId, id, input);
    const doc = await this.deps.software.update(current, fields, new Date(), changeActor(principal));
    await this.deps.generation.advance();
    return doc;
  }

  private async taskFields(
    owner: string | null,
    id: string,
    input: MaintenanceTaskInput,
    current?: MaintenanceTaskDocument,
  ) {
    const separate = [input.testScriptId, input.setScriptId, input.getScriptId].some((script) => !!script);
    if (separate === !!input.combinedScriptId)
      fail([
        {
          path: '/body/combinedScriptId',
          message: 'give either one combined script or test/set/get scripts',
        },
      ]);
    await this.checkScripts(owner, {
      '/body/testScriptId': input.testScriptId,
      '/body/setScriptId': input.setScriptId,
      '/body/getScriptId': input.getScriptId,
      '/body/combinedScriptId': input.combinedScriptId,
    });
    const definitions: ParameterDefinition[] = input.parameters.map((parameter) => ({
      name: parameter.name,
      type: parameter.type,
      required: parameter.required ?? false,
      defaultValue: parameter.defaultValue ?? null,
      min: parameter.min ?? null,
      max: parameter.max ?? null,
      pattern: parameter.pattern ?? null,
      options: parameter.options ?? [],
    }));
    fail(parameterDefinitionProblems(definitions));
    const previousSecret = new Map(
      (current?.parameters ?? []).map((parameter) => [parameter.name, parameter.sealedDefault]),
    );
    const parameters = definitions.map((definition, index): StoredParameterDefinition => {
      if (definition.type !== 'secret') return { ...definition, sealedDefault: null };
      // A secret default is never read back, so leaving it out of a change keeps the stored one.
      const given = input.parameters[index]?.defaultValue;
      const sealedDefault =
        given === undefined
          ? (previousSecret.get(definition.name) ?? null)
          : given === null
            ? null
            : // Validated above: a secret is text.
              this.deps.cipher.seal(given as string, taskSecretContext(id, definition.name));
      return { ...definition, defaultValue: null, sealedDefault };
    });
    return {
      name: input.name,
      targetCategory: input.targetCategory,
      testScriptId: input.testScriptId ?? null,
      setScriptId: input.setScriptId ?? null,
      getScriptId: input.getScriptId ?? null,
      combinedScriptId: input.combinedScriptId ?? null,
      parameters,
    };
  }

  async createMaintenanceTask(principal: Principal, input: MaintenanceTaskInput) {
    const owner = authorizeCatalogOwner(principal, input.tenantId);
    const id = randomUUID();
    const fields = await this.taskFields(owner, id, input);
    const doc = await this.deps.maintenanceTasks.insert(
      { _id: id, tenantId: owner, ...fields },
      new Date(),
      changeActor(principal),
    );
    await this.deps.generation.advance();
    return doc;
  }

  async updateMaintenanceTask(
    principal: Principal,
    id: string,
    version: number,
    input: MaintenanceTaskInput,
  ) {
    const current = await this.forChange(principal, this.deps.maintenanceTasks, id, version);
    const fields = await this.taskFields(current.tenantId, id, input, current);
    const doc = await this.deps.maintenanceTasks.update(current, fields, new Date(), changeActor(principal));
    await this.deps.generation.advance();
    return doc;
  }

  /** Deletes an item no live deployment (software, tasks) or catalog item (scripts) uses any more. */
  async delete<T extends CatalogDocument>(
    principal: Principal,
    repository: CatalogRepository<T>,
    id: string,
    version: number,
  ): Promise<void> {
    const current = await this.forChange(principal, repository, id, version);
    if (await this.isInUse(id))
      throw new ConflictError('the item is still in use; remove what uses it first');
    await repository.softDelete(current, new Date(), changeActor(principal));
    await this.deps.generation.advance();
  }

  private async isInUse(id: string): Promise<boolean> {
    if (await this.deps.deployments.isItemInUse(id)) return true;
    const [software, tasks] = await Promise.all([this.deps.software.all(), this.deps.maintenanceTasks.all()]);
    return (
      software.some(
        (item) =>
          [
            item.detectionScriptId,
            item.installScriptId,
            item.uninstallScriptId,
            item.upgradeScriptId,
          ].includes(id) ||
          item.versions.some((version) =>
            [version.installScriptId, version.uninstallScriptId, version.upgradeScriptId].includes(id),
          ) ||
          item.prerequisites.some(
            (prerequisite) =>
              prerequisite.condition.softwareIds.includes(id) ||
              (prerequisite.action.kind !== 'fail' && prerequisite.action.softwareIds.includes(id)),
          ),
      ) ||
      tasks.some((task) =>
        [task.testScriptId, task.setScriptId, task.getScriptId, task.combinedScriptId].includes(id),
      )
    );
  }
}
