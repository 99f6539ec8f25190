import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { aggregateVersion, id, timestamp, upn } from './fields.ts';

/**
 * Directory events are keyed by tenant id (so one tenant's changes stay in order) and each carries the whole
 * aggregate it is about with that aggregate's own `version`, so a projection needs no earlier event to build
 * its row and applies an event only if it is newer than the row it holds.
 */
const tag = z.string().trim().min(1).max(64);
const tags = z.array(tag).max(100);

const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');

export const tenantSettingsSchema = z.object({
  /** New computers of this tenant get an onboarding session first (and wait for it) when true. */
  onboardingEnabled: z.boolean(),
  /** IANA time zone, e.g. `Europe/Berlin`: schedules and business hours are in the tenant's own time. */
  timeZone: z.string().min(1).max(64),
  businessHours: z.object({ days: z.array(weekday).max(7), start: clockTime, end: clockTime }).nullable(),
  /** A tenant that manages its own baseline: cross-tenant deployments never reach its computers. */
  excludedFromCrossTenantDeployments: z.boolean(),
});
export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

export const tenantUpsertedSchema = z.object({
  tenantId: id,
  version: aggregateVersion,
  name: z.string().trim().min(1).max(256),
  slug: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lowercase words separated by single hyphens'),
  active: z.boolean(),
  /** Null for an MSP's own root tenant; a site names the customer tenant it belongs to. */
  parentTenantId: id.nullable(),
  /** True for a tenant of the MSP itself (an installation may serve several MSP tenants). */
  isMsp: z.boolean(),
  tags,
  settings: tenantSettingsSchema,
  updatedAt: timestamp,
});
export type TenantUpserted = z.infer<typeof tenantUpsertedSchema>;
export const tenantUpserted = defineEvent(
  'converge.tenant.upserted.v1',
  topics.directoryEvents,
  tenantUpsertedSchema,
);

export const tenantDeletedSchema = z.object({
  tenantId: id,
  version: aggregateVersion,
  deletedAt: timestamp,
});
export type TenantDeleted = z.infer<typeof tenantDeletedSchema>;
export const tenantDeleted = defineEvent(
  'converge.tenant.deleted.v1',
  topics.directoryEvents,
  tenantDeletedSchema,
);

export const personUpsertedSchema = z.object({
  tenantId: id,
  personId: id,
  version: aggregateVersion,
  displayName: z.string().trim().min(1).max(256),
  /** The sign-in name user-computer affinity matches logged-on users by; null for a person without one. */
  upn: upn.nullable(),
  email: z.string().max(256).nullable(),
  entraObjectId: id.nullable(),
  onPremisesSid: z.string().max(184).nullable(),
  tags,
  updatedAt: timestamp,
});
export type PersonUpserted = z.infer<typeof personUpsertedSchema>;
export const personUpserted = defineEvent(
  'converge.person.upserted.v1',
  topics.directoryEvents,
  personUpsertedSchema,
);

export const personDeletedSchema = z.object({
  tenantId: id,
  personId: id,
  version: aggregateVersion,
  deletedAt: timestamp,
});
export type PersonDeleted = z.infer<typeof personDeletedSchema>;
export const personDeleted = defineEvent(
  'converge.person.deleted.v1',
  topics.directoryEvents,
  personDeletedSchema,
);

/** A group carries its direct members; consumers resolve nesting (a group's groups' members, transitively). */
export const groupUpsertedSchema = z.object({
  tenantId: id,
  groupId: id,
  version: aggregateVersion,
  displayName: z.string().trim().min(1).max(256),
  entraObjectId: id.nullable(),
  // Bounded so the event stays far under Kafka's 1 MiB message limit.
  memberPersonIds: z.array(id).max(20_000),
  memberGroupIds: z.array(id).max(1_000),
  updatedAt: timestamp,
});
export type GroupUpserted = z.infer<typeof groupUpsertedSchema>;
export const groupUpserted = defineEvent(
  'converge.group.upserted.v1',
  topics.directoryEvents,
  groupUpsertedSchema,
);

export const groupDeletedSchema = z.object({
  tenantId: id,
  groupId: id,
  version: aggregateVersion,
  deletedAt: timestamp,
});
export type GroupDeleted = z.infer<typeof groupDeletedSchema>;
export const groupDeleted = defineEvent(
  'converge.group.deleted.v1',
  topics.directoryEvents,
  groupDeletedSchema,
);

/** Dates are instants; `endsAt` is exclusive and null while open-ended. */
const dateRange = { startsAt: timestamp, endsAt: timestamp.nullable() };

export const psaAgreementUpsertedSchema = z.object({
  tenantId: id,
  agreementId: id,
  version: aggregateVersion,
  /** Which PSA it came from, e.g. `connectwise-manage`. */
  provider: z.string().min(1).max(64),
  name: z.string().trim().min(1).max(256),
  agreementTypeId: id,
  ...dateRange,
  additions: z.array(z.object({ productId: id, name: z.string().max(256), ...dateRange })).max(1_000),
  updatedAt: timestamp,
});
export type PsaAgreementUpserted = z.infer<typeof psaAgreementUpsertedSchema>;
export const psaAgreementUpserted = defineEvent(
  'converge.psa-agreement.upserted.v1',
  topics.directoryEvents,
  psaAgreementUpsertedSchema,
);

export const psaAgreementDeletedSchema = z.object({
  tenantId: id,
  agreementId: id,
  version: aggregateVersion,
  deletedAt: timestamp,
});
export type PsaAgreementDeleted = z.infer<typeof psaAgreementDeletedSchema>;
export const psaAgreementDeleted = defineEvent(
  'converge.psa-agreement.deleted.v1',
  topics.directoryEvents,
  psaAgreementDeletedSchema,
);
