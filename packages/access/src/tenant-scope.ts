import { isMspUser, type Principal } from '@converge/auth';
import { ForbiddenError } from '@converge/errors';
import { allTenants, asTenantId, scopeIncludes, type TenantScope } from '@converge/store';
import { can, type Action } from './permissions.ts';

/**
 * The tenants a principal may see: every tenant for MSP users, their own tenant for tenant users. A
 * principal with no role, or a tenant user without a tenant, may see nothing and is refused outright.
 */
export function tenantScopeOf(principal: Principal): TenantScope {
  if (isMspUser(principal)) return allTenants;
  if (principal.roles.length === 0 || principal.tenantId === undefined) {
    throw new ForbiddenError('no access has been granted to this account');
  }
  return asTenantId(principal.tenantId);
}

/**
 * Refuses unless the principal may take the action, and, when the action concerns one tenant, may act in
 * that tenant. Out-of-scope tenants are refused the same way as missing permissions, so an error never
 * tells a tenant user which other tenants exist.
 */
export function authorize(principal: Principal, action: Action, tenantId?: string): void {
  if (!can(principal, action)) throw new ForbiddenError(`this account may not ${action.replace(/-/g, ' ')}`);
  if (tenantId !== undefined && !scopeIncludes(tenantScopeOf(principal), tenantId)) {
    throw new ForbiddenError(`this account may not ${action.replace(/-/g, ' ')} in that tenant`);
  }
}

/**
 * Refuses unless the principal may take the action in a tenant and in every tenant below it: its child
 * tenants, theirs, and any added later. A tenant user's access ends at its own tenant, whatever lies below
 * it, so only a principal who may act in every tenant has rights over a subtree.
 */
export function authorizeSubtree(principal: Principal, action: Action, tenantId: string): void {
  authorize(principal, action, tenantId);
  if (tenantScopeOf(principal) !== allTenants) {
    throw new ForbiddenError(`this account may not ${action.replace(/-/g, ' ')} in child tenants`);
  }
}
