/** The portal roles, spelled as the identity provider's app roles in the `roles` claim. */
export const roles = ['msp-admin', 'msp-non-admin', 'tenant-admin', 'tenant-non-admin'] as const;

export type Role = (typeof roles)[number];

const mspRoles: readonly Role[] = ['msp-admin', 'msp-non-admin'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

export interface Principal {
  /**
   * The token's issuer (`iss`). A sign-in identity is the issuer and the subject together: a subject is only
   * unique within its issuer.
   */
  issuer: string;
  subject: string;
  kind: 'user' | 'client';
  name?: string;
  email?: string;
  roles: Role[];
  tenantId: string | undefined;
  scopes: string[];
}

/** True when the principal holds at least one of the given roles. */
export function hasRole(principal: Principal, ...wanted: Role[]): boolean {
  return principal.roles.some((role) => wanted.includes(role));
}

/** MSP users may act across tenants; tenant users only inside their own. */
export function isMspUser(principal: Principal): boolean {
  return hasRole(principal, ...mspRoles);
}
