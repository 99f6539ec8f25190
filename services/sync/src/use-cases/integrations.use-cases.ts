import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConflictError, NotFoundError, ValidationError } from '@converge/errors';
import {
  asTenantId,
  type ListRequest,
  type Page,
  type TenantScope,
  type SecretCipher,
} from '@converge/store';
import type { Logger } from '@converge/telemetry';
import type { AggregateWriter } from '../data-access/aggregate-writer.ts';
import type { AuditRepository } from '../data-access/audit.repository.ts';
import { connectWiseManageProvider } from '../data-access/connectwise-manage.client.ts';
import type { PsaAgreementDocument, TenantDocument } from '../data-access/directory.models.ts';
import type {
  IntegrationDocument,
  IntegrationKind,
  IntegrationRepository,
  IntegrationSettings,
  PsaCompanyRepository,
  SyncRun,
} from '../data-access/integration.repository.ts';
import { createGraphClient } from '../data-access/microsoft-graph.client.ts';
import { acquireSyncLock } from '../data-access/sync-lock.ts';
import type { RetryPolicy } from '../domain/throttling.ts';
import { auditActor, type Actor } from './actor.ts';
import { runEntraSync } from './entra-sync.ts';
import type { GroupUseCases } from './groups.use-cases.ts';
import type { PeopleUseCases } from './people.use-cases.ts';
import { runPsaSync } from './psa-sync.ts';

export interface IntegrationInput {
  tenantId: string;
  kind: IntegrationKind;
  name: string;
  settings: Partial<IntegrationSettings>;
  /** Write-only: the client secret (Entra ID) or the API member's private key (ConnectWise). */
  secret: string;
}

export type IntegrationPatch = Partial<Pick<IntegrationInput, 'name' | 'settings' | 'secret'>> & {
  version?: number;
};

const emptySettings: IntegrationSettings = {
  directoryTenantId: null,
  clientId: null,
  apiUrl: null,
  companyId: null,
  publicKey: null,
};

const requiredSettings: Record<IntegrationKind, (keyof IntegrationSettings)[]> = {
  'entra-id': ['directoryTenantId', 'clientId'],
  'connectwise-manage': ['apiUrl', 'companyId', 'publicKey', 'clientId'],
};

function checkSettings(kind: IntegrationKind, settings: IntegrationSettings): void {
  const missing = requiredSettings[kind].filter((key) => settings[key] === null || settings[key] === '');
  if (missing.length > 0) {
    throw new ValidationError(
      `a ${kind} integration needs ${missing.join(', ')}`,
      missing.map((key) => ({ path: `/body/settings/${key}`, message: 'required for this kind' })),
    );
  }
}

/**
 * What the API and the audit log show of an integration: the settings and the run state, never the secret
 * (only whether one is set).
 */
export function describeIntegration(integration: IntegrationDocument) {
  return {
    id: integration._id,
    tenantId: integration.tenantId,
    kind: integration.kind,
    name: integration.name,
    settings: integration.settings,
    secretSet: true,
    lastRun: integration.lastRun,
    version: integration.version,
    createdAt: integration.createdAt,
    updatedAt: integration.updatedAt,
  };
}

export interface IntegrationDeps {
  integrations: IntegrationRepository;
  companies: PsaCompanyRepository;
  agreements: AggregateWriter<PsaAgreementDocument>;
  tenants: AggregateWriter<TenantDocument>;
  people: PeopleUseCases;
  groups: GroupUseCases;
  audit: AuditRepository;
  secrets: SecretCipher;
  redis: Redis;
  logger: Logger;
  sync: {
    intervalMs: number;
    lockTtlMs: number;
    maxRetryAfterMs: number;
    graphBaseUrl: string;
    entraLoginBaseUrl: string;
  };
}

export class IntegrationUseCases {
  private readonly deps: IntegrationDeps;
  private readonly policy: RetryPolicy;

  constructor(deps: IntegrationDeps) {
    this.deps = deps;
    this.policy = { maxAttempts: 5, baseDelayMs: 200, maxRetryAfterMs: deps.sync.maxRetryAfterMs };
  }

  list(scope: TenantScope, request: ListRequest<IntegrationDocument>): Promise<Page<IntegrationDocument>> {
    return this.deps.integrations.list(scope, request);
  }

  async get(scope: TenantScope, id: string): Promise<IntegrationDocument> {
    const integration = await this.deps.integrations.findById(scope, id);
    if (integration === null) throw new NotFoundError('integration not found');
    return integration;
  }

  async create(actor: Actor, input: IntegrationInput, now: Date): Promise<IntegrationDocument> {
    const settings = { ...emptySettings, ...input.settings };
    checkSettings(input.kind, settings);
    if (input.kind === 'entra-id') {
      const existing = await this.deps.integrations.findOne(asTenantId(input.tenantId), { kind: 'entra-id' });
      if (existing !== null) throw new ConflictError('this tenant has an Entra ID integration already');
    }
    const id = `integration-${randomUUID()}`;
    const created = await this.deps.integrations.insert(asTenantId(input.tenantId), {
      _id: id,
      kind: input.kind,
      name: input.name,
      settings,
      sealedSecret: this.deps.secrets.seal(input.secret, `integration:${id}`),
      deltaLinks: { users: null, groups: null },
      fencingToken: 0,
      lastRun: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    await this.record(actor, created, 'created', undefined, created, now);
    return created;
  }

  async update(
    actor: Actor,
    scope: TenantScope,
    id: string,
    patch: IntegrationPatch,
    now: Date,
  ): Promise<IntegrationDocument> {
    const current = await this.get(scope, id);
    const settings = { ...current.settings, ...patch.settings };
    checkSettings(current.kind, settings);
    const set: Partial<IntegrationDocument> = { settings, updatedAt: now };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.secret !== undefined)
      set.sealedSecret = this.deps.secrets.seal(patch.secret, `integration:${id}`);
    // Other credentials or another directory: the stored delta links describe a different sync.
    if (patch.settings?.directoryTenantId !== undefined) set.deltaLinks = { users: null, groups: null };
    const updated = await this.deps.integrations.update(
      asTenantId(current.tenantId),
      id,
      patch.version ?? current.version,
      {
        $set: set,
      },
    );
    await this.record(
      actor,
      updated,
      patch.secret === undefined ? 'updated' : 'updated (secret replaced)',
      current,
      updated,
      now,
    );
    return updated;
  }

  async remove(actor: Actor, scope: TenantScope, id: string, now: Date): Promise<void> {
    const current = await this.get(scope, id);
    await this.deps.integrations.deleteById(asTenantId(current.tenantId), id);
    await this.record(actor, current, 'deleted', current, undefined, now);
  }

  private async record(
    actor: Actor,
    integration: IntegrationDocument,
    action: string,
    before: IntegrationDocument | undefined,
    after: IntegrationDocument | undefined,
    now: Date,
  ): Promise<void> {
    const snapshot = (doc: IntegrationDocument) => {
      const { lastRun: _lastRun, createdAt: _createdAt, ...rest } = describeIntegration(doc);
      return rest;
    };
    await this.deps.audit.record({
      tenantId: asTenantId(integration.tenantId),
      actor: auditActor(actor),
      entityType: 'integration',
      entityId: integration._id,
      action,
      ...(before === undefined ? {} : { before: snapshot(before) }),
      ...(after === undefined ? {} : { after: snapshot(after) }),
      at: now,
    });
  }

  private graphFor(integration: IntegrationDocument) {
    return createGraphClient({
      graphBaseUrl: this.deps.sync.graphBaseUrl,
      loginBaseUrl: this.deps.sync.entraLoginBaseUrl,
      directoryTenantId: integration.settings.directoryTenantId ?? '',
      clientId: integration.settings.clientId ?? '',
      clientSecret: this.deps.secrets.open(integration.sealedSecret, `integration:${integration._id}`),
      policy: this.policy,
    });
  }

  private psaFor(integration: IntegrationDocument) {
    return connectWiseManageProvider({
      apiUrl: integration.settings.apiUrl ?? '',
      companyId: integration.settings.companyId ?? '',
      publicKey: integration.settings.publicKey ?? '',
      clientId: integration.settings.clientId ?? '',
      privateKey: this.deps.secrets.open(integration.sealedSecret, `integration:${integration._id}`),
      policy: { ...this.policy, maxAttempts: 2 },
    });
  }

  /** Tries the credentials against the provider; the answer says why not, never with the secret. */
  async testConnection(scope: TenantScope, id: string): Promise<{ ok: boolean; error: string | null }> {
    const integration = await this.get(scope, id);
    try {
      if (integration.kind === 'entra-id') await this.graphFor(integration).testConnection();
      else await this.psaFor(integration).testConnection();
      return { ok: true, error: null };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : 'connection failed' };
    }
  }

  /**
   * Runs one sync of one integration unless another replica runs it now (false then). The run's state is
   * visible as `lastRun` from its start; its delta links are stored only after it succeeded.
   */
  async sync(integration: IntegrationDocument, trigger: SyncRun['trigger']): Promise<boolean> {
    const lock = await acquireSyncLock(
      this.deps.redis,
      `sync-lock:${integration._id}`,
      this.deps.sync.lockTtlMs,
    );
    if (lock === null) return false;
    const run: SyncRun = {
      status: 'running',
      trigger,
      startedAt: new Date(),
      finishedAt: null,
      errors: [],
      counts: { people: 0, groups: 0, companies: 0, agreements: 0 },
    };
    const log = this.deps.logger.child({ integrationId: integration._id, tenantId: integration.tenantId });
    try {
      if (!(await this.deps.integrations.saveRun(integration._id, lock.fencingToken, { lastRun: run })))
        return false;
      let deltaLinks = integration.deltaLinks;
      try {
        if (integration.kind === 'entra-id') {
          const result = await runEntraSync(
            integration.tenantId,
            this.graphFor(integration),
            deltaLinks,
            this.deps,
            () => new Date(),
          );
          deltaLinks = result.deltaLinks;
          run.counts.people = result.people;
          run.counts.groups = result.groups;
        } else {
          const result = await runPsaSync(integration, this.psaFor(integration), this.deps, () => new Date());
          run.counts.companies = result.companies;
          run.counts.agreements = result.agreements;
          run.errors.push(...result.errors);
        }
      } catch (error) {
        run.errors.push(error instanceof Error ? error.message : String(error));
      }
      run.status = run.errors.length === 0 ? 'succeeded' : 'failed';
      run.finishedAt = new Date();
      await this.deps.integrations.saveRun(integration._id, lock.fencingToken, {
        lastRun: run,
        ...(run.status === 'succeeded' ? { deltaLinks } : {}),
      });
      log.info(
        { kind: integration.kind, status: run.status, counts: run.counts, errors: run.errors },
        'sync run finished',
      );
      return true;
    } finally {
      await lock.release();
    }
  }

  /** Starts a run now (POST /integrations/{id}/sync); refuses while one is running. */
  async syncNow(scope: TenantScope, id: string): Promise<void> {
    const integration = await this.get(scope, id);
    if (
      integration.lastRun?.status === 'running' &&
      (await this.deps.redis.exists(`sync-lock:${id}`)) === 1
    ) {
      throw new ConflictError('a sync of this integration is running');
    }
    void this.sync(integration, 'on-demand').catch((error: unknown) => {
      this.deps.logger.error({ err: error, integrationId: id }, 'on-demand sync failed');
    });
  }

  /**
   * The scheduled pass: every integration whose last run started an interval ago or more. Runs are
   * independent: one tenant's failure or slowness does not stop another's.
   */
  async syncDue(now: Date): Promise<void> {
    const due = (await this.deps.integrations.all()).filter(
      (integration) =>
        integration.lastRun === null ||
        now.getTime() - integration.lastRun.startedAt.getTime() >= this.deps.sync.intervalMs,
    );
    const results = await Promise.allSettled(due.map((integration) => this.sync(integration, 'schedule')));
    for (const [i, result] of results.entries()) {
      if (result.status === 'rejected') {
        this.deps.logger.error({ err: result.reason, integrationId: due[i]?._id }, 'scheduled sync failed');
      }
    }
  }
}
