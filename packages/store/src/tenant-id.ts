import { ValidationError } from '@converge/errors';

/** A tenant id that has been through `asTenantId`; repositories take no plain string where a tenant belongs. */
export type TenantId = string & { readonly __brand: 'TenantId' };

/**
 * The scope of an MSP user, who may act in every tenant. A symbol, so no request body or query string can
 * spell it: only the authorization helper (`@converge/access`) hands it out.
 */
export const allTenants: unique symbol = Symbol('all tenants');

/** Which tenants a read may see: one tenant, a list of tenants, or every tenant. */
export type TenantScope = TenantId | readonly TenantId[] | typeof allTenants;

export function asTenantId(value: string): TenantId {
  if (value.trim() === '') throw new ValidationError('tenant id must not be empty');
  return value as TenantId;
}

/** True when a scope includes the tenant. */
export function scopeIncludes(scope: TenantScope, tenantId: string): boolean {
  if (scope === allTenants) return true;
  return typeof scope === 'string' ? scope === tenantId : scope.includes(tenantId as TenantId);
}

/**
 * Adds a scope to a filter, after the caller's conditions so a filter can never widen it; an empty list
 * matches nothing rather than everything.
 */
export function scopedFilter<F extends object>(scope: TenantScope, filter: F): F & { tenantId?: unknown } {
  if (scope === allTenants) return filter;
  return { ...filter, tenantId: typeof scope === 'string' ? scope : { $in: scope } };
}
