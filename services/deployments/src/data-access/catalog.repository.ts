import { auditEntryRecorded, catalogItemChanged, type CatalogItemKind } from '@converge/contracts';
import { NotFoundError } from '@converge/errors';
import {
  allTenants,
  outboxEntry,
  pageQuery,
  toPage,
  updateVersioned,
  withOutbox,
  type PageRequest,
  type TenantScope,
} from '@converge/store';
import type { Model, QueryFilter, UpdateQuery } from 'mongoose';
import { auditEntry, type ChangeActor } from '../domain/audit-entry.ts';
import type { CatalogDocument } from './catalog.schemas.ts';

/**
 * Which catalog items a caller sees: the global ones and those of the tenants in scope (an MSP's scope is
 * every tenant, so everything).
 */
export function visibleTo(scope: TenantScope): Record<string, unknown> {
  if (scope === allTenants) return {};
  const owned = typeof scope === 'string' ? scope : { $in: scope };
  return { $or: [{ tenantId: null }, { tenantId: owned }] };
}

/**
 * Store and events of one kind of catalog item; every change carries its `catalogItemChanged` event and its
 * audit entry, in the same write.
 */
export class CatalogRepository<TDoc extends CatalogDocument> {
  private readonly model: Model<TDoc>;
  private readonly kind: CatalogItemKind;

  constructor(model: Model<TDoc>, kind: CatalogItemKind) {
    this.model = model;
    this.kind = kind;
  }

  private event(doc: { _id: string; tenantId: string | null; name: string }, version: number, now: Date) {
    return {
      type: catalogItemChanged.type,
      topic: catalogItemChanged.topic,
      subject: doc._id,
      ...(doc.tenantId === null ? {} : { tenantId: doc.tenantId }),
      data: {
        itemKind: this.kind,
        itemId: doc._id,
        tenantId: doc.tenantId,
        version,
        name: doc.name,
        deleted: false,
        changedAt: now.toISOString(),
      },
      time: now,
    };
  }

  private audited(
    entity: { _id: string; tenantId: string | null },
    actor: ChangeActor,
    before: object | null,
    after: object | null,
    now: Date,
  ) {
    const data = auditEntry({ entityType: this.kind, entity, actor, before, after, at: now });
    const { topic, type } = auditEntryRecorded;
    return { type, topic, subject: entity._id, tenantId: data.tenantId, data, time: now };
  }

  private live(filter: Record<string, unknown>): QueryFilter<TDoc> {
    return { ...filter, deletedAt: null };
  }

  async list(scope: TenantScope, request: PageRequest, filter: Record<string, unknown> = {}) {
    const query = pageQuery(request, { $and: [this.live(filter), visibleTo(scope)] });
    const docs = await this.model
      .find(query.filter as QueryFilter<TDoc>)
      .sort(query.sort)
      .limit(query.fetchLimit)
      .lean<TDoc[]>();
    return toPage(docs, request);
  }

  /** A live item the scope sees; anything else is `NotFoundError`, so other tenants' items stay unseen. */
  async get(scope: TenantScope, id: string): Promise<TDoc> {
    const doc = await this.model.findOne({ $and: [this.live({ _id: id }), visibleTo(scope)] }).lean<TDoc>();
    if (doc === null) throw new NotFoundError(`${this.kind} not found`);
    return doc;
  }

  /** The live items among `ids` the scope sees, by id. */
  async findMany(scope: TenantScope, ids: readonly string[]): Promise<Map<string, TDoc>> {
    if (ids.length === 0) return new Map();
    const docs = await this.model
      .find({ $and: [this.live({ _id: { $in: [...new Set(ids)] } }), visibleTo(scope)] })
      .lean<TDoc[]>();
    return new Map(docs.map((doc) => [doc._id, doc]));
  }

  /** `all` without the fields named: the scripts a session runs, say, without their replaced bodies. */
  async allWithout<K extends Exclude<keyof TDoc & string, '_id'>>(
    omit: readonly K[],
  ): Promise<Omit<TDoc, K>[]> {
    return this.model
      .find(this.live({}), Object.fromEntries(omit.map((field) => [field, 0])))
      .lean<Omit<TDoc, K>[]>();
  }

  /** Every live item (the catalog resolution and cycle checks read whole). */
  async all(): Promise<TDoc[]> {
    return this.model.find(this.live({})).lean<TDoc[]>();
  }

  async insert(
    doc: Omit<TDoc, 'version' | 'deletedAt' | 'outbox' | 'createdAt' | 'updatedAt'>,
    now: Date,
    actor: ChangeActor,
  ) {
    const stored = {
      ...doc,
      version: 1,
      deletedAt: null,
      createdAt: now,
      updatedAt: now,
      outbox: [this.event(doc, 1, now), this.audited(doc, actor, null, doc, now)].map(outboxEntry),
    };
    const created = await (this.model as unknown as Model<CatalogDocument>).create(stored);
    return created.toObject() as TDoc;
  }

  /** A versioned change of a live item (`ConflictError` when it changed meanwhile). */
  async update(
    current: TDoc,
    fields: Partial<TDoc>,
    now: Date,
    actor: ChangeActor,
    extra: UpdateQuery<TDoc> = {},
  ): Promise<TDoc> {
    const next = { ...current, ...fields };
    const update = withOutbox<TDoc>({ ...extra, $set: { ...fields, updatedAt: now } }, [
      this.event(next, current.version + 1, now),
      this.audited(current, actor, current, next, now),
    ]);
    return updateVersioned(this.model, this.live({ _id: current._id }), current.version, update);
  }

  async softDelete(current: TDoc, now: Date, actor: ChangeActor): Promise<void> {
    const event = this.event(current, current.version + 1, now);
    event.data.deleted = true;
    await updateVersioned(
      this.model,
      this.live({ _id: current._id }),
      current.version,
      withOutbox<TDoc>({ $set: { deletedAt: now, updatedAt: now } }, [
        event,
        this.audited(current, actor, current, null, now),
      ]),
    );
  }
}
