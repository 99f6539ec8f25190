import { authorize, tenantScopeOf } from '@converge/access';
import type { Principal } from '@converge/auth';
import { NotFoundError, ValidationError } from '@converge/errors';
import {
  allTenants,
  scopeIncludes,
  type CommandSecretBinding,
  type CommandSecrets,
  type SecretCipher,
  type TenantScope,
} from '@converge/store';
import type { CatalogRepository } from '../data-access/catalog.repository.ts';
import type {
  MaintenanceTaskDocument,
  ScriptDocument,
  SoftwareDocument,
} from '../data-access/catalog.schemas.ts';
import type {
  DeploymentDocument,
  DeploymentRepository,
  StoredParameterValue,
} from '../data-access/deployment.repository.ts';
import type { EstateGenerationRepository } from '../data-access/estate-generation.repository.ts';
import type { ProjectionRepository } from '../data-access/projection.repository.ts';
import { computersWhereDeploymentWins } from '../domain/deployment-reach.ts';
import type { Resolution } from '../domain/deployment-resolution.ts';
import { prepareEstate, resolveComputer, type Estate } from '../domain/estate.ts';
import { itemKey, type Deployment, type SessionKind } from '../domain/types.ts';
import { sessionPlan, type SessionCatalog, type SessionPlanItem } from './session-plan.ts';

export interface ResolutionDeps {
  projections: ProjectionRepository;
  software: CatalogRepository<SoftwareDocument>;
  maintenanceTasks: CatalogRepository<MaintenanceTaskDocument>;
  scripts: CatalogRepository<ScriptDocument>;
  deployments: DeploymentRepository;
  generation: EstateGenerationRepository;
  /** Opens stored secret parameter values for the sessions that run them. */
  cipher: SecretCipher;
  /** Seals them again for the agent's command, which only the gateway opens. */
  commandSecrets: CommandSecrets;
}

export interface ResolutionRequest {
  sessionKind: SessionKind;
  /** The one maintenance item of a single-item session (a software or maintenance task id). */
  itemId?: string;
  adHoc?: boolean;
  /** Explanations for people (the preview); a session only needs the plan. */
  explain: boolean;
}

export interface WinningComputer {
  computerId: string;
  tenantId: string;
}

function toDomain(doc: DeploymentDocument): Deployment {
  return {
    id: doc._id,
    enabled: doc.enabled,
    maintenanceItem: doc.maintenanceItem,
    target: doc.target,
    deviceFilter: doc.deviceFilter,
    desiredState: doc.desiredState,
    enforcement: doc.enforcement,
    priority: doc.priority,
  };
}

/** The estate, and what a session needs beyond it, as read at one generation. */
interface Snapshot {
  estate: Estate;
  catalog: SessionCatalog;
}

// Computers read per round of the reverse query: enough to amortize a query, few enough to answer quickly.
const reverseBatch = 1_000;

/**
 * Resolution at the edge. The estate (directory, catalog, deployments: everything but the computers) is
 * prepared once and kept in memory with the generation it was built at, together with the catalog entries
 * scripts and parameter values a session needs; a change anywhere moves the generation on (see
 * `EstateGenerationRepository`) and the next answer rebuilds it, so `Resolve` reads nothing but the
 * generation and the computer. The REST preview and gRPC `Resolve` both call `resolveComputer` here, so they
 * cannot disagree.
 */
export class ResolutionUseCases {
  private readonly deps: ResolutionDeps;
  private cached: { generation: number; snapshot: Snapshot } | undefined;
  private building: { generation: number; snapshot: Promise<Snapshot> } | undefined;

  constructor(deps: ResolutionDeps) {
    this.deps = deps;
  }

  /** The prepared estate at the current generation. */
  async estate(): Promise<Estate> {
    return (await this.snapshot()).estate;
  }

  /** The snapshot at the current generation (concurrent callers share one rebuild). */
  private async snapshot(): Promise<Snapshot> {
    const generation = await this.deps.generation.current();
    if (this.cached?.generation === generation) return this.cached.snapshot;
    if (this.building?.generation !== generation) {
      const building = { generation, snapshot: this.build() };
      this.building = building;
      building.snapshot.then(
        (snapshot) => {
          if (this.building === building) this.building = undefined;
          if ((this.cached?.generation ?? -1) < generation) this.cached = { generation, snapshot };
        },
        () => {
          if (this.building === building) this.building = undefined;
        },
      );
    }
    return this.building.snapshot;
  }

  private async build(): Promise<Snapshot> {
    const { projections, software, maintenanceTasks, deployments } = this.deps;
    const [directory, softwareDocs, taskDocs, deploymentDocs, scriptDocs] = await Promise.all([
      projections.directory(),
      software.all(),
      maintenanceTasks.all(),
      deployments.all(),
      // A session runs the current body only: the history of replaced ones stays in the database.
      this.deps.scripts.allWithout(['history', 'outbox']),
    ]);
    const estate = prepareEstate(
      directory,
      {
        software: softwareDocs.map((doc) => ({
          id: doc._id,
          name: doc.name,
          prerequisites: doc.prerequisites,
        })),
        maintenanceTasks: taskDocs.map((doc) => ({ id: doc._id, name: doc.name })),
      },
      deploymentDocs.map(toDomain),
    );
    const parameterValues = new Map<string, readonly StoredParameterValue[]>();
    for (const doc of deploymentDocs) {
      if (doc.parameterValues.length > 0) parameterValues.set(doc._id, doc.parameterValues);
    }
    return {
      estate,
      catalog: {
        software: new Map(softwareDocs.map((doc) => [doc._id, doc])),
        maintenanceTasks: new Map(taskDocs.map((doc) => [doc._id, doc])),
        scripts: new Map(scriptDocs.map((doc) => [doc._id, doc])),
        parameterValues,
      },
    };
  }

  /**
   * What the computer (inside `scope`) should have in a session of this kind. Throws `NotFoundError` for a
   * computer or item the scope does not see, `PrerequisiteCycleError` (a validation error naming the cycle)
   * when the catalog's prerequisites loop.
   */
  async resolve(
    scope: TenantScope,
    computerId: string,
    request: ResolutionRequest,
    now: number,
  ): Promise<Resolution> {
    return (await this.resolveInSnapshot(scope, computerId, request, now)).resolution;
  }

  /**
   * What a maintenance session runs on the computer: the plan (no explanations) with each item's name,
   * version, scripts and parameter values, its secrets sealed to `sealedFor`. Also throws
   * `PlanNotRunnableError` when an item lacks a script its desired state needs.
   */
  async sessionPlan(
    scope: TenantScope,
    computerId: string,
    request: Omit<ResolutionRequest, 'explain'>,
    sealedFor: CommandSecretBinding,
    now: number,
  ): Promise<SessionPlanItem[]> {
    const { snapshot, resolution } = await this.resolveInSnapshot(
      scope,
      computerId,
      { ...request, explain: false },
      now,
    );
    return sessionPlan(
      resolution.plan,
      snapshot.catalog,
      { stored: this.deps.cipher, commands: this.deps.commandSecrets, binding: sealedFor },
      request.sessionKind !== 'detection-only',
    );
  }

  private async resolveInSnapshot(
    scope: TenantScope,
    computerId: string,
    request: ResolutionRequest,
    now: number,
  ): Promise<{ snapshot: Snapshot; resolution: Resolution }> {
    const computer = await this.deps.projections.findComputer(scope, computerId);
    if (!computer) throw new NotFoundError('computer not found');
    const snapshot = await this.snapshot();
    const estate = snapshot.estate;
    let singleItemKey: string | undefined;
    if (request.sessionKind === 'single-item') {
      if (request.itemId === undefined)
        throw new ValidationError('a single-item session names its maintenance item');
      const kind = estate.catalog.software.has(request.itemId)
        ? 'software'
        : estate.catalog.maintenanceTasks.has(request.itemId)
          ? 'maintenance-task'
          : null;
      if (kind === null) throw new NotFoundError('maintenance item not found');
      singleItemKey = itemKey({ kind, id: request.itemId });
    } else if (request.itemId !== undefined) {
      throw new ValidationError('only a single-item session names a maintenance item');
    }
    const resolution = resolveComputer(estate, computer, {
      sessionKind: request.sessionKind,
      now,
      explain: request.explain,
      ...(request.adHoc === undefined ? {} : { adHoc: request.adHoc }),
      ...(singleItemKey === undefined ? {} : { singleItemKey }),
    });
    return { snapshot, resolution };
  }

  /** The REST preview: the caller's scope, with explanations. */
  preview(
    principal: Principal,
    computerId: string,
    request: Omit<ResolutionRequest, 'explain'>,
    now: number,
  ) {
    authorize(principal, 'read');
    return this.resolve(tenantScopeOf(principal), computerId, { ...request, explain: true }, now);
  }

  /**
   * One page of the computers on which the deployment wins its maintenance item (in a full session), in
   * computer id order. Scans computers in batches, only those of the tenants the deployment can reach when it
   * belongs to one tenant, and stops once the page is full.
   */
  async winningComputers(
    principal: Principal,
    deploymentId: string,
    page: { limit: number; cursor?: string },
    now: number,
  ): Promise<{ items: WinningComputer[]; nextCursor: string | null }> {
    authorize(principal, 'read');
    const scope = tenantScopeOf(principal);
    const deployment = await this.deps.deployments.get(scope, deploymentId);
    const estate = await this.estate();
    const tenants = reachableTenants(estate, deployment, scope);
    const items: WinningComputer[] = [];
    let after = page.cursor === undefined ? null : decodeComputerCursor(page.cursor);
    for (;;) {
      const batch = await this.deps.projections.computersAfter(after, reverseBatch, tenants);
      const winning = new Set(
        computersWhereDeploymentWins(estate, deploymentId, batch, {
          sessionKind: 'full',
          now,
          explain: false,
        }),
      );
      for (const computer of batch) {
        if (!winning.has(computer.id)) continue;
        if (items.length === page.limit)
          return { items, nextCursor: encodeComputerCursor(items.at(-1)?.computerId ?? '') };
        items.push({ computerId: computer.id, tenantId: computer.tenantId });
      }
      if (batch.length < reverseBatch) return { items, nextCursor: null };
      after = batch.at(-1)?.id ?? null;
    }
  }
}

/**
 * The tenants whose computers a deployment can reach (undefined: any tenant), narrowed to the caller's
 * scope: its own tenant, plus the descendants of a tenant target that propagates to child tenants.
 */
function reachableTenants(
  estate: Estate,
  deployment: DeploymentDocument,
  scope: TenantScope,
): string[] | undefined {
  let tenants: string[] | undefined;
  if (deployment.tenantId !== null) {
    const target = deployment.target;
    const root = deployment.tenantId;
    tenants =
      target.kind === 'tenant' && target.includeChildTenants
        ? [...estate.directory.tenantLineage]
            .filter(([, lineage]) => lineage.includes(root))
            .map(([id]) => id)
        : [root];
    if (!tenants.includes(root)) tenants.push(root);
  }
  if (scope === allTenants) return tenants;
  const scoped = typeof scope === 'string' ? [scope] : [...scope];
  return (tenants ?? scoped).filter((tenantId) => scopeIncludes(scope, tenantId));
}

function encodeComputerCursor(computerId: string): string {
  return Buffer.from(JSON.stringify({ after: computerId })).toString('base64url');
}

function decodeComputerCursor(cursor: string): string {
  try {
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof body.after === 'string') return body.after;
  } catch {
    // Reported below like any other cursor this list did not issue.
  }
  throw new ValidationError('invalid cursor', [
    { path: 'query.cursor', message: 'not a cursor from this list' },
  ]);
}
