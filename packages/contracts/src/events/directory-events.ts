import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { aggregateVersion, id, timestamp } from './fields.ts';

/** Directory events are keyed by tenant id and carry the tenant's version. */
const tenantRef = {
  tenantId: id,
  version: aggregateVersion,
};

/** Carries the whole tenant, so a projection needs no earlier event to build its row. */
export const tenantUpsertedSchema = z.object({
  ...tenantRef,
  name: z.string().trim().min(1).max(256),
  slug: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lowercase words separated by single hyphens'),
  /** Null for the MSP's own root tenant. */
  parentTenantId: id.nullable(),
  updatedAt: timestamp,
});
export type TenantUpserted = z.infer<typeof tenantUpsertedSchema>;
export const tenantUpserted = defineEvent(
  'converge.tenant.upserted.v1',
  topics.directoryEvents,
  tenantUpsertedSchema,
);

export const tenantDeletedSchema = z.object({ ...tenantRef, deletedAt: timestamp });
export type TenantDeleted = z.infer<typeof tenantDeletedSchema>;
export const tenantDeleted = defineEvent(
  'converge.tenant.deleted.v1',
  topics.directoryEvents,
  tenantDeletedSchema,
);
