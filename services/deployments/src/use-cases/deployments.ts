import { randomUUID } from 'node:crypto';
import { authorize, authorizeSubtree, tenantScopeOf } from '@converge/access';
import type { Principal } from '@converge/auth';
import { ConflictError, ValidationError } from '@converge/errors';
import { allTenants, asTenantId, type PageRequest, type SecretCipher } from '@converge/store';
import type { CatalogRepository } from '../data-access/catalog.repository.ts';
import type { MaintenanceTaskDocument, SoftwareDocument } from '../data-access/catalog.schemas.ts';
import type {
  DeploymentDocument,
  DeploymentFields,
  DeploymentRepository,
  StoredParameterValue,
} from '../data-access/deployment.repository.ts';
import type { EstateGenerationRepository } from '../data-access/estate-generation.repository.ts';
import type { ProjectionRepository } from '../data-access/projection.repository.ts';
import { changeActor } from '../domain/audit-entry.ts';
import { actionForScope, desiredStateProblem } from '../domain/deployment-rules.ts';
import { includesChildTenants, scopeOf, type Scope } from '../domain/target-matching.ts';
import { parameterValueProblems } from '../domain/task-parameters.ts';
import type { DesiredState, DeviceFilter, Enforcement, MaintenanceItemRef, Target } from '../domain/types.ts';

export interface DeploymentInput {
  maintenanceItem: MaintenanceItemRef;
  target: Target;
  deviceFilter?: DeviceFilter;
  desiredState: DesiredState;
  enforcement: Enforcement;
  /** Task parameter values by name; null clears a value, an omitted secret keeps its stored value. */
  parameterValues?: Record<string, unknown>;
  enabled?: boolean;
  notes?: string;
  priority?: number;
}

export interface DeploymentDeps {
  deployments: DeploymentRepository;
  software: CatalogRepository<SoftwareDocument>;
  maintenanceTasks: CatalogRepository<MaintenanceTaskDocument>;
  projections: ProjectionRepository;
  generation: EstateGenerationRepository;
  cipher: SecretCipher;
}

export function deploymentSecretContext(deploymentId: string, parameter: string): string {
  return `deployment:${deploymentId}:${parameter}`;
}

function invalid(path: string, message: string): ValidationError {
  return new ValidationError('the deployment is not valid', [{ path, message }]);
}

/**
 * Refuses unless the principal may manage deployments of this scope in every tenant the target reaches: its
 * tenant, and for a tenant target with child tenants the whole subtree below it (issue 12, item 6).
 */
function authorizeReach(principal: Principal, scope: Scope, target: Target, tenantId: string | null): void {
  const action = actionForScope(scope);
  if (tenantId !== null && includesChildTenants(target)) authorizeSubtree(principal, action, tenantId);
  else authorize(principal, action, tenantId ?? undefined);
}

/**
 * Deployments: who may change one depends on its scope (individual, single tenant, cross-tenant) and on the
 * tenant its target lies in, both read off the target; the maintenance item must be one the deployment's
 * tenant may use, the desired state one the item has, and parameter values valid for the task.
 */
export class DeploymentUseCases {
  private readonly deps: DeploymentDeps;

  constructor(deps: DeploymentDeps) {
    this.deps = deps;
  }

  list(
    principal: Principal,
    request: PageRequest,
    filter: { maintenanceItemId?: string; tenantId?: string },
  ) {
    authorize(principal, 'read');
    const query: Record<string, unknown> = {};
    if (filter.maintenanceItemId !== undefined) query['maintenanceItem.id'] = filter.maintenanceItemId;
    if (filter.tenantId !== undefined) query.tenantId = filter.tenantId;
    return this.deps.deployments.list(tenantScopeOf(principal), request, query);
  }

  get(principal: Principal, id: string): Promise<DeploymentDocument> {
    authorize(principal, 'read');
    return this.deps.deployments.get(tenantScopeOf(principal), id);
  }

  /** The tenant a target lies in (null for cross-tenant), from the target or the projections. */
  private async tenantOfTarget(target: Target): Promise<string | null> {
    const { projections } = this.deps;
    switch (target.kind) {
      case 'all-computers':
      case 'psa-agreement':
      case 'psa-product':
        return null;
      case 'tenant':
        return target.tenantId;
      case 'tag':
        return target.tenantId;
      case 'computer': {
        const computer = await projections.findComputer(allTenants, target.computerId);
        if (!computer) throw invalid('/body/target/computerId', 'no such computer');
        return computer.tenantId;
      }
      case 'person': {
        const person = await projections.findPerson(target.personId);
        if (!person) throw invalid('/body/target/personId', 'no such person');
        return person.tenantId;
      }
      case 'entra-group': {
        const group = await projections.findGroup(target.groupId);
        if (!group) throw invalid('/body/target/groupId', 'no such group');
        return group.tenantId;
      }
    }
  }

  /** Checks the caller may manage a deployment with this target, and returns its scope and tenant. */
  private async authorizeTarget(principal: Principal, target: Target) {
    const scope = scopeOf(target);
    const tenantId = await this.tenantOfTarget(target);
    authorizeReach(principal, scope, target, tenantId);
    return { scope, tenantId };
  }

  private async fields(
    principal: Principal,
    id: string,
    input: DeploymentInput,
    current?: DeploymentDocument,
  ): Promise<DeploymentFields> {
    const { scope, tenantId } = await this.authorizeTarget(principal, input.target);
    // The item must be usable where the deployment reaches: a tenant's own item only inside that tenant, so
    // never on its child tenants (whose computers would run the scripts the parent's admins write).
    const withChildren = includesChildTenants(input.target);
    const itemScope = tenantId === null || withChildren ? [] : asTenantId(tenantId);
    const item = input.maintenanceItem;
    const repository = item.kind === 'software' ? this.deps.software : this.deps.maintenanceTasks;
    const found = (await repository.findMany(itemScope, [item.id])).get(item.id);
    if (!found) {
      throw invalid(
        '/body/maintenanceItem/id',
        withChildren
          ? `no global ${item.kind} with this id: a deployment including child tenants uses global items only`
          : `no ${item.kind} usable by this deployment`,
      );
    }

    const versions =
      item.kind === 'software' ? (found as SoftwareDocument).versions.map((v) => v.version) : [];
    const stateProblem = desiredStateProblem(item.kind, input.desiredState, versions);
    if (stateProblem !== null) throw invalid('/body/desiredState', stateProblem);

    const values = input.parameterValues ?? {};
    let parameterValues: StoredParameterValue[] = [];
    if (item.kind === 'software') {
      if (Object.keys(values).length > 0)
        throw invalid('/body/parameterValues', 'software takes no parameters');
    } else {
      parameterValues = this.parameterValues(id, found as MaintenanceTaskDocument, values, current);
    }
    return {
      tenantId,
      scope,
      maintenanceItem: { kind: item.kind, id: item.id },
      target: input.target,
      deviceFilter: input.deviceFilter ?? 'all',
      desiredState: input.desiredState,
      enforcement: input.enforcement,
      parameterValues,
      enabled: input.enabled ?? true,
      notes: input.notes ?? '',
      priority: input.priority ?? 0,
    };
  }

  private parameterValues(
    id: string,
    task: MaintenanceTaskDocument,
    values: Record<string, unknown>,
    current?: DeploymentDocument,
  ): StoredParameterValue[] {
    const stored = new Map(
      current?.maintenanceItem.id === task._id
        ? current.parameterValues.map((value) => [value.name, value])
        : [],
    );
    const definitions = task.parameters.map((parameter) => ({
      ...parameter,
      // A sealed default counts as a default for "required".
      defaultValue: parameter.sealedDefault !== null ? '' : parameter.defaultValue,
    }));
    const kept = new Set(
      task.parameters
        .filter(
          (parameter) => parameter.type === 'secret' && stored.get(parameter.name)?.sealed !== undefined,
        )
        .map((parameter) => parameter.name),
    );
    const problems = parameterValueProblems(definitions, values, kept);
    if (problems.length > 0) throw new ValidationError('the parameter values are not valid', problems);

    const result: StoredParameterValue[] = [];
    for (const parameter of task.parameters) {
      const given = values[parameter.name];
      if (given === null) continue;
      if (given === undefined) {
        const previous = stored.get(parameter.name);
        if (parameter.type === 'secret' && previous?.sealed !== undefined) result.push(previous);
        continue;
      }
      result.push(
        parameter.type === 'secret'
          ? {
              name: parameter.name,
              sealed: this.deps.cipher.seal(given as string, deploymentSecretContext(id, parameter.name)),
            }
          : { name: parameter.name, value: given },
      );
    }
    return result;
  }

  async create(principal: Principal, input: DeploymentInput): Promise<DeploymentDocument> {
    const id = randomUUID();
    const fields = await this.fields(principal, id, input);
    const doc = await this.deps.deployments.insert(id, fields, new Date(), changeActor(principal));
    await this.deps.generation.advance();
    return doc;
  }

  /** Authorized against both the deployment as it is and as it would become. */
  private async forChange(principal: Principal, id: string, version: number): Promise<DeploymentDocument> {
    const current = await this.deps.deployments.get(tenantScopeOf(principal), id);
    authorizeReach(principal, current.scope, current.target, current.tenantId);
    if (current.version !== version)
      throw new ConflictError(`the deployment changed since version ${version}; reload and retry`);
    return current;
  }

  async update(principal: Principal, id: string, version: number, input: DeploymentInput) {
    const current = await this.forChange(principal, id, version);
    const fields = await this.fields(principal, id, input, current);
    const doc = await this.deps.deployments.update(current, fields, new Date(), changeActor(principal));
    await this.deps.generation.advance();
    return doc;
  }

  async delete(principal: Principal, id: string, version: number): Promise<void> {
    const current = await this.forChange(principal, id, version);
    await this.deps.deployments.softDelete(current, new Date(), changeActor(principal));
    await this.deps.generation.advance();
  }
}
