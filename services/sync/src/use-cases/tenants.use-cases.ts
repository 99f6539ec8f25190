import { randomUUID } from 'node:crypto';
import type { TenantSettings } from '@converge/contracts';
import { ConflictError, NotFoundError, ValidationError } from '@converge/errors';
import { asTenantId, allTenants } from '@converge/store';
import type { AggregateWriter } from '../data-access/aggregate-writer.ts';
import type { AuditRepository } from '../data-access/audit.repository.ts';
import type { TenantDocument } from '../data-access/directory.models.ts';
import { tenantDeletedEvent, tenantUpsertedEvent, type TenantState } from '../domain/directory-snapshots.ts';
import { checkParent, checkTimeZone, defaultTenantSettings, slugOf } from '../domain/tenant.ts';
import { auditActor, type Actor } from './actor.ts';

export interface TenantInput {
  id?: string;
  name: string;
  slug?: string;
  active?: boolean;
  parentTenantId?: string | null;
  isMsp?: boolean;
  tags?: string[];
  settings?: Partial<TenantSettings>;
}

export type TenantPatch = Partial<Omit<TenantInput, 'id' | 'isMsp'>> & { version?: number };

/** What the API and the audit log show of a tenant. */
export function tenantView(tenant: TenantDocument): TenantState {
  return {
    _id: tenant._id,
    name: tenant.name,
    slug: tenant.slug,
    active: tenant.active,
    parentTenantId: tenant.parentTenantId,
    isMsp: tenant.isMsp,
    tags: tenant.tags,
    settings: tenant.settings,
    version: tenant.version,
    updatedAt: tenant.updatedAt,
  };
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

export class TenantUseCases {
  private readonly tenants: AggregateWriter<TenantDocument>;
  private readonly audit: AuditRepository;

  constructor(tenants: AggregateWriter<TenantDocument>, audit: AuditRepository) {
    this.tenants = tenants;
    this.audit = audit;
  }

  private async checkParentExists(tenantId: string, parentTenantId: string | null): Promise<void> {
    checkParent(tenantId, parentTenantId);
    if (parentTenantId !== null && (await this.live(parentTenantId)) === null) {
      throw new ValidationError('the parent tenant does not exist', [
        { path: '/body/parentTenantId', message: 'no such tenant' },
      ]);
    }
  }

  async live(id: string): Promise<TenantDocument | null> {
    return this.tenants.findOne(allTenants, { _id: id, deletedAt: null });
  }

  async create(actor: Actor, input: TenantInput, now: Date): Promise<TenantDocument> {
    const id = input.id ?? `tenant-${randomUUID()}`;
    const settings = { ...defaultTenantSettings, ...input.settings };
    checkTimeZone(settings.timeZone);
    await this.checkParentExists(id, input.parentTenantId ?? null);
    try {
      const created = await this.tenants.create(
        {
          _id: id,
          tenantId: id,
          name: input.name,
          slug: input.slug ?? slugOf(input.name),
          active: input.active ?? true,
          parentTenantId: input.parentTenantId ?? null,
          isMsp: input.isMsp ?? false,
          tags: input.tags ?? [],
          settings,
        },
        now,
        tenantUpsertedEvent,
      );
      await this.audit.record({
        tenantId: asTenantId(id),
        actor: auditActor(actor),
        entityType: 'tenant',
        entityId: id,
        action: 'created',
        after: tenantView(created),
        at: now,
      });
      return created;
    } catch (error) {
      if (isDuplicateKey(error)) throw new ConflictError('a tenant with this id or slug exists');
      throw error;
    }
  }

  async update(actor: Actor, id: string, patch: TenantPatch, now: Date): Promise<TenantDocument> {
    const current = await this.live(id);
    if (current === null) throw new NotFoundError('tenant not found');
    if (patch.version !== undefined && patch.version !== current.version) {
      throw new ConflictError(`tenant changed since version ${patch.version}; reload and retry`);
    }
    const settings = { ...current.settings, ...patch.settings };
    checkTimeZone(settings.timeZone);
    if (patch.parentTenantId !== undefined) await this.checkParentExists(id, patch.parentTenantId);
    const changes: Partial<TenantDocument> = { settings };
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.slug !== undefined) changes.slug = patch.slug;
    if (patch.active !== undefined) changes.active = patch.active;
    if (patch.parentTenantId !== undefined) changes.parentTenantId = patch.parentTenantId;
    if (patch.tags !== undefined) changes.tags = patch.tags;
    try {
      const updated = await this.tenants.change(current, changes, now, tenantUpsertedEvent);
      await this.audit.record({
        tenantId: asTenantId(id),
        actor: auditActor(actor),
        entityType: 'tenant',
        entityId: id,
        action: 'updated',
        before: tenantView(current),
        after: tenantView(updated),
        at: now,
      });
      return updated;
    } catch (error) {
      if (isDuplicateKey(error)) throw new ConflictError('a tenant with this slug exists');
      throw error;
    }
  }

  async remove(actor: Actor, id: string, now: Date): Promise<void> {
    const current = await this.live(id);
    if (current === null) throw new NotFoundError('tenant not found');
    await this.tenants.remove(current, now, (tenant, at) =>
      tenantDeletedEvent(tenant._id, tenant.version + 1, at),
    );
    await this.audit.record({
      tenantId: asTenantId(id),
      actor: auditActor(actor),
      entityType: 'tenant',
      entityId: id,
      action: 'deleted',
      before: tenantView(current),
      at: now,
    });
  }
}
