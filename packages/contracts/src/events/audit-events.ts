import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { id, timestamp } from './fields.ts';

export const auditedEntityTypes = ['script', 'software', 'maintenance-task', 'deployment'] as const;
export type AuditedEntityType = (typeof auditedEntityTypes)[number];

/**
 * One change for the audit log, which the sync service keeps: who made it and the values before and after (as
 * JSON text, secrets left out). Written in the same store write as the change, through its outbox, so no change
 * goes unaudited; keyed by the entity's id, and recorded once however often it is delivered (by event id).
 */
export const auditEntryRecordedSchema = z.object({
  /** The entity's tenant, or for a global item or a cross-tenant deployment the tenant of who changed it. */
  tenantId: id,
  actor: z.object({
    subject: z.string().min(1).max(256),
    impersonatedBy: z.string().min(1).max(256).nullable(),
  }),
  entityType: z.enum(auditedEntityTypes),
  entityId: id,
  action: z.enum(['created', 'updated', 'deleted']),
  before: z
    .string()
    .max(256 * 1024)
    .nullable(),
  after: z
    .string()
    .max(256 * 1024)
    .nullable(),
  at: timestamp,
});
export type AuditEntryRecorded = z.infer<typeof auditEntryRecordedSchema>;
export const auditEntryRecorded = defineEvent(
  'converge.audit.entry-recorded.v1',
  topics.auditEntries,
  auditEntryRecordedSchema,
);
