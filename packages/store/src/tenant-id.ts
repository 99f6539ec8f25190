import { ValidationError } from '@converge/errors';

/** A tenant id that has been through `asTenantId`; repositories take no plain string where a tenant belongs. */
export type TenantId = string & { readonly __brand: 'TenantId' };

/** Which tenants a read may see: one tenant, or the tenants an MSP user is scoped to. */
export type TenantScope = TenantId | readonly TenantId[];

export function asTenantId(value: string): TenantId {
  if (value.trim() === '') throw new ValidationError('tenant id must not be empty');
  return value as TenantId;
}

/** The filter condition for a scope; an empty list matches nothing rather than everything. */
export function tenantCondition(scope: TenantScope): string | { $in: readonly string[] } {
  return typeof scope === 'string' ? scope : { $in: scope };
}
