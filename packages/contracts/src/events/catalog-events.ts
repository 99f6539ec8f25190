import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { aggregateVersion, id, timestamp } from './fields.ts';

/**
 * Catalog and deployment events are keyed by the item's or deployment's id and carry its version. They say
 * what changed, not every field: parameter values may hold secrets, and a consumer that needs more asks the
 * deployments service (sessions resolve over gRPC). A deletion is the last event of its aggregate.
 */
export const catalogItemKinds = ['script', 'software', 'maintenance-task'] as const;
export type CatalogItemKind = (typeof catalogItemKinds)[number];

export const catalogItemChangedSchema = z.object({
  itemKind: z.enum(catalogItemKinds),
  itemId: id,
  /** The owning tenant; null for a global item, which every tenant may use. */
  tenantId: id.nullable(),
  version: aggregateVersion,
  name: z.string().trim().min(1).max(256),
  deleted: z.boolean(),
  changedAt: timestamp,
});
export type CatalogItemChanged = z.infer<typeof catalogItemChangedSchema>;
export const catalogItemChanged = defineEvent(
  'converge.catalog-item.changed.v1',
  topics.catalogEvents,
  catalogItemChangedSchema,
);

export const deploymentScopes = ['individual', 'single-tenant', 'cross-tenant'] as const;
export type DeploymentScope = (typeof deploymentScopes)[number];

export const deploymentChangedSchema = z.object({
  deploymentId: id,
  /** The tenant the deployment belongs to; null for a cross-tenant deployment. */
  tenantId: id.nullable(),
  version: aggregateVersion,
  maintenanceItem: z.object({ kind: z.enum(['software', 'maintenance-task']), id }),
  scope: z.enum(deploymentScopes),
  enabled: z.boolean(),
  deleted: z.boolean(),
  changedAt: timestamp,
});
export type DeploymentChanged = z.infer<typeof deploymentChangedSchema>;
export const deploymentChanged = defineEvent(
  'converge.deployment.changed.v1',
  topics.catalogEvents,
  deploymentChangedSchema,
);
