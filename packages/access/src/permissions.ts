import { isMspUser, type Principal, type Role } from '@converge/auth';

/**
 * What a principal may do, in the product's words. The matrix follows the reference's User Roles: MSP
 * admins have full access; MSP non-admins cannot manage schedules, users or cross-tenant deployments;
 * tenant admins manage their own tenant's computers, schedules, deployments, catalog items and users;
 * tenant non-admins only create deployments for individual computers and people.
 */
export const actions = [
  /** See tenant-scoped data (computers, sessions, deployments) inside the caller's scope. */
  'read',
  'manage-computers',
  'run-sessions',
  /** Deployments whose target is one computer or one person. */
  'manage-individual-deployments',
  /** Deployments scoped to one tenant (all its computers, a group, a tag, an agreement). */
  'manage-tenant-deployments',
  'manage-cross-tenant-deployments',
  /** Software, maintenance tasks and scripts (tenant users only their tenant's own). */
  'manage-catalog',
  'manage-schedules',
  'manage-users',
  /** Agent install tokens and agent credentials. */
  'manage-agents',
  // Decided here where the reference is silent: tenants, integration credentials and impersonation are
  // MSP-admin only, because each reaches across every tenant.
  'manage-tenants',
  'manage-integrations',
  'impersonate',
] as const;
export type Action = (typeof actions)[number];

const tenantAdmin: readonly Action[] = [
  'read',
  'manage-computers',
  'run-sessions',
  'manage-individual-deployments',
  'manage-tenant-deployments',
  'manage-catalog',
  'manage-schedules',
  'manage-users',
  'manage-agents',
];

const permissions: Record<Role, ReadonlySet<Action>> = {
  'msp-admin': new Set(actions),
  'msp-non-admin': new Set(
    actions.filter(
      (action) =>
        ![
          'manage-schedules',
          'manage-users',
          'manage-cross-tenant-deployments',
          'manage-tenants',
          'manage-integrations',
          'impersonate',
        ].includes(action),
    ),
  ),
  'tenant-admin': new Set(tenantAdmin),
  'tenant-non-admin': new Set<Action>(['read', 'run-sessions', 'manage-individual-deployments']),
};

/** True when any of the principal's roles allows the action (tenant scope is checked separately). */
export function can(principal: Principal, action: Action): boolean {
  return principal.roles.some((role) => permissions[role].has(action));
}

/**
 * The rights ceiling of user management: a principal may grant a role only when it may itself take every
 * action the role allows, and an MSP role (which acts in every tenant) only when it acts in every tenant
 * too. So a tenant admin grants tenant roles, and nobody hands out more than they hold.
 */
export function canGrant(principal: Principal, role: Role): boolean {
  const grantee: Principal = { ...principal, roles: [role] };
  if (isMspUser(grantee) && !isMspUser(principal)) return false;
  return actions.every((action) => !can(grantee, action) || can(principal, action));
}
