/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { auditedEntityTypes } from '@converge/contracts';
import { isDuplicateKeyError, TenantRepository, type TenantId } from '@converge/store';

export const auditEntityTypes = [
  ...auditedEntityTypes,
  'tenant',
  'person',
  'user',
  'access-request',
  'integration',
  'psa-company',
  'request',
] as const;
export type AuditEntityType = (typeof auditEntityTypes)[number];

export interface AuditActor {
  /** The token subject the change was made as (the impersonated user's, when impersonated). */
  subject: string;
  /** The MSP admin behind an impersonated request; null otherwise. */
  impersonatedBy: string | null;
}

export interface AuditEntryDocument {
  _id: string;
  tenantId: string;
  at: Date;
  actor: AuditActor;
  entityType: AuditEntityType;
  entityId: string;
  /** created, updated, deleted, approved, denied, impersonated… */
  action: string;
  /**
   * The values before and after, as JSON text: they may hold keys FerretDB cannot store (a `.` in a tag
   * setting, say), and the log only ever shows them. Credentials never get here (see `describeIntegration`).
   */
  before: string | null;
  after: string | null;
}

const auditSchema = new Schema<AuditEntryDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    at: { type: Date, required: true },
    actor: {
      subject: { type: String, required: true },
      impersonatedBy: { type: String, default: null },
    },
    entityType: { type: String, required: true },
    entityId: { type: String, required: true },
    action: { type: String, required: true },
    before: { type: String, default: null },
    after: { type: String, default: null },
  },
  { versionKey: false, collection: 'audit_entries' },
);
// GET /audit lists newest first within a tenant.
auditSchema.index({ tenantId: 1, at: -1 });
// "What happened to this user / integration": filtered by entity.
auditSchema.index({ entityType: 1, entityId: 1, at: -1 });

export interface AuditRecord {
  tenantId: TenantId;
  actor: AuditActor;
  entityType: AuditEntityType;
  entityId: string;
  action: string;
  before?: unknown;
  after?: unknown;
  at: Date;
}

export class AuditRepository extends TenantRepository<AuditEntryDocument> {
  async record(entry: AuditRecord): Promise<void> {
    await this.insert(entry.tenantId, {
      _id: randomUUID(),
      at: entry.at,
      actor: entry.actor,
      entityType: entry.entityType,
      entityId: entry.entityId,
      action: entry.action,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
    });
  }

  /**
   * An entry another service recorded, under its id, with its values already as JSON text; a second delivery
   * finds the id taken and records nothing.
   */
  async recordOnce(
    id: string,
    entry: Omit<AuditRecord, 'before' | 'after'> & { before: string | null; after: string | null },
  ): Promise<void> {
    try {
      await this.insert(entry.tenantId, {
        _id: id,
        at: entry.at,
        actor: entry.actor,
        entityType: entry.entityType,
        entityId: entry.entityId,
        action: entry.action,
        before: entry.before,
        after: entry.after,
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
}

export function auditModel(conn: Connection): Model<AuditEntryDocument> {
  return conn.model<AuditEntryDocument>('AuditEntry', auditSchema);
}
