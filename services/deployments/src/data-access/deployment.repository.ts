/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { auditEntryRecorded, deploymentChanged } from '@converge/contracts';
import { NotFoundError } from '@converge/errors';
import {
  allTenants,
  outboxEntry,
  outboxPlugin,
  pageQuery,
  toPage,
  updateVersioned,
  withOutbox,
  type OutboxFields,
  type Page,
  type PageRequest,
  type TenantScope,
} from '@converge/store';
import { Schema, type Connection, type Model, type QueryFilter, type UpdateQuery } from 'mongoose';
import { auditEntry, type ChangeActor } from '../domain/audit-entry.ts';
import type { Scope } from '../domain/target-matching.ts';
import type { DesiredState, DeviceFilter, Enforcement, MaintenanceItemRef, Target } from '../domain/types.ts';

/** A parameter value as stored: in clear, or sealed when the parameter is a secret. */
export interface StoredParameterValue {
  name: string;
  value?: unknown;
  sealed?: string;
}

export interface DeploymentDocument extends OutboxFields {
  _id: string;
  /** Null for a cross-tenant deployment; otherwise the tenant its target lies in. */
  tenantId: string | null;
  scope: Scope;
  maintenanceItem: MaintenanceItemRef;
  target: Target;
  deviceFilter: DeviceFilter;
  desiredState: DesiredState;
  enforcement: Enforcement;
  parameterValues: StoredParameterValue[];
  enabled: boolean;
  notes: string;
  priority: number;
  version: number;
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type DeploymentFields = Omit<
  DeploymentDocument,
  '_id' | 'version' | 'deletedAt' | 'createdAt' | 'updatedAt' | keyof OutboxFields
>;

const deploymentSchema = new Schema<DeploymentDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, default: null },
    scope: { type: String, required: true },
    maintenanceItem: { type: Schema.Types.Mixed, required: true },
    target: { type: Schema.Types.Mixed, required: true },
    deviceFilter: { type: String, required: true },
    desiredState: { type: Schema.Types.Mixed, required: true },
    enforcement: { type: String, required: true },
    parameterValues: { type: Schema.Types.Mixed, default: [] },
    enabled: { type: Boolean, required: true },
    notes: { type: String, default: '' },
    priority: { type: Number, default: 0 },
    version: { type: Number, required: true, default: 1 },
    deletedAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
outboxPlugin(deploymentSchema);
// A tenant's deployment list (and an MSP's list filtered by tenant).
deploymentSchema.index({ tenantId: 1 });
// "Which deployments use this item": the list filter, and the guard against deleting an item in use.
deploymentSchema.index({ 'maintenanceItem.id': 1 });

export function deploymentModel(conn: Connection): Model<DeploymentDocument> {
  return conn.model<DeploymentDocument>('Deployment', deploymentSchema);
}

/** Cross-tenant deployments belong to no tenant, so only an MSP scope (every tenant) sees them. */
function visibleTo(scope: TenantScope): Record<string, unknown> {
  if (scope === allTenants) return {};
  return { tenantId: typeof scope === 'string' ? scope : { $in: scope } };
}

export class DeploymentRepository {
  private readonly model: Model<DeploymentDocument>;

  constructor(model: Model<DeploymentDocument>) {
    this.model = model;
  }

  private event(doc: DeploymentFields & { _id: string }, version: number, now: Date, deleted: boolean) {
    return {
      type: deploymentChanged.type,
      topic: deploymentChanged.topic,
      subject: doc._id,
      ...(doc.tenantId === null ? {} : { tenantId: doc.tenantId }),
      data: {
        deploymentId: doc._id,
        tenantId: doc.tenantId,
        version,
        maintenanceItem: doc.maintenanceItem,
        scope: doc.scope,
        enabled: doc.enabled,
        deleted,
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
    const data = auditEntry({ entityType: 'deployment', entity, actor, before, after, at: now });
    const { topic, type } = auditEntryRecorded;
    return { type, topic, subject: entity._id, tenantId: data.tenantId, data, time: now };
  }

  private live(filter: Record<string, unknown>): QueryFilter<DeploymentDocument> {
    return { ...filter, deletedAt: null };
  }

  async list(
    scope: TenantScope,
    request: PageRequest,
    filter: Record<string, unknown> = {},
  ): Promise<Page<DeploymentDocument>> {
    const query = pageQuery(request, { $and: [this.live(filter), visibleTo(scope)] });
    const docs = await this.model
      .find(query.filter as QueryFilter<DeploymentDocument>)
      .sort(query.sort)
      .limit(query.fetchLimit)
      .lean<DeploymentDocument[]>();
    return toPage(docs, request);
  }

  async get(scope: TenantScope, id: string): Promise<DeploymentDocument> {
    const doc = await this.model
      .findOne({ $and: [this.live({ _id: id }), visibleTo(scope)] })
      .lean<DeploymentDocument>();
    if (doc === null) throw new NotFoundError('deployment not found');
    return doc;
  }

  async all(): Promise<DeploymentDocument[]> {
    return this.model.find(this.live({})).lean<DeploymentDocument[]>();
  }

  async isItemInUse(itemId: string): Promise<boolean> {
    return (await this.model.exists(this.live({ 'maintenanceItem.id': itemId }))) !== null;
  }

  async insert(
    id: string,
    fields: DeploymentFields,
    now: Date,
    actor: ChangeActor,
  ): Promise<DeploymentDocument> {
    const doc = { _id: id, ...fields };
    const created = await this.model.create({
      ...doc,
      version: 1,
      deletedAt: null,
      createdAt: now,
      updatedAt: now,
      outbox: [this.event(doc, 1, now, false), this.audited(doc, actor, null, doc, now)].map(outboxEntry),
    });
    return created.toObject();
  }

  async update(
    current: DeploymentDocument,
    fields: DeploymentFields,
    now: Date,
    actor: ChangeActor,
  ): Promise<DeploymentDocument> {
    const next = { ...current, ...fields };
    const update = withOutbox<DeploymentDocument>({ $set: { ...fields, updatedAt: now } }, [
      this.event(next, current.version + 1, now, false),
      this.audited(current, actor, current, next, now),
    ]);
    return updateVersioned(this.model, this.live({ _id: current._id }), current.version, update);
  }

  async softDelete(current: DeploymentDocument, now: Date, actor: ChangeActor): Promise<void> {
    const update: UpdateQuery<DeploymentDocument> = withOutbox<DeploymentDocument>(
      { $set: { deletedAt: now, updatedAt: now } },
      [this.event(current, current.version + 1, now, true), this.audited(current, actor, current, null, now)],
    );
    await updateVersioned(this.model, this.live({ _id: current._id }), current.version, update);
  }
}
