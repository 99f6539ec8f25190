import { authorize, tenantScopeOf } from '@converge/access';
import type { Principal } from '@converge/auth';
import { ForbiddenError } from '@converge/errors';
import { allTenants, asTenantId, type TenantScope } from '@converge/store';

/**
 * Who owns a new catalog item and whether the caller may manage items of that owner. Global items
 * (`null`) are the MSP's: only MSP users manage them. A tenant user's items belong to their own tenant; an
 * MSP user names the tenant, or leaves it out for a global item.
 */
export function authorizeCatalogOwner(
  principal: Principal,
  requested: string | null | undefined,
): string | null {
  const scope = tenantScopeOf(principal);
  const owner =
    requested === undefined ? (scope === allTenants ? null : (principal.tenantId ?? null)) : requested;
  if (owner === null) {
    authorize(principal, 'manage-catalog');
    if (scope !== allTenants) throw new ForbiddenError('only MSP users may manage global catalog items');
    return null;
  }
  authorize(principal, 'manage-catalog', owner);
  return owner;
}

/**
 * The catalog an item of this owner may refer to (scripts, prerequisite software): global items and the
 * owner's own. A global item refers to global items only, or it would break for every other tenant.
 */
export function referenceScope(owner: string | null): TenantScope {
  return owner === null ? [] : asTenantId(owner);
}
