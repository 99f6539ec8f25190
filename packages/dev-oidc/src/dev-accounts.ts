// The seeded identities of the development provider. Everything here is public on purpose:
// the provider is for loopback development and tests only, never for production.

export type DevRole = 'msp-admin' | 'msp-non-admin' | 'tenant-admin' | 'tenant-non-admin';

/** The resource (audience) every access token is issued for. */
export const apiAudience = 'api://converge';

/** The delegated scope a user token carries for the API (Entra's conventional name). */
export const apiScope = 'access_as_user';

/** Dev-only grant that issues a user's token without a browser, for tests. */
export const testUserGrantType = 'urn:converge:params:oauth:grant-type:test-user';

export const mspTenantId = 'tenant-msp';
export const customerTenantId = 'tenant-contoso';

/**
 * The tenants of the seeded identities, as the directory (the sync service) must hold them for their tokens'
 * `tid` to name a tenant that exists. `npm start` creates them (`seed-tenants.ts`).
 */
export interface DevTenant {
  readonly id: string;
  readonly name: string;
  readonly isMsp: boolean;
}

export const devTenants = [
  { id: mspTenantId, name: 'Northwind MSP', isMsp: true },
  { id: customerTenantId, name: 'Contoso', isMsp: false },
] as const satisfies readonly DevTenant[];

export interface DevUser {
  readonly sub: string;
  readonly email: string;
  readonly name: string;
  readonly role: DevRole;
  readonly tenantId: string;
}

export const devUsers = {
  'msp-admin': {
    sub: 'msp-admin',
    email: 'msp-admin@converge.test',
    name: 'Morgan MSP Admin',
    role: 'msp-admin',
    tenantId: mspTenantId,
  },
  'msp-non-admin': {
    sub: 'msp-non-admin',
    email: 'msp-non-admin@converge.test',
    name: 'Noel MSP Technician',
    role: 'msp-non-admin',
    tenantId: mspTenantId,
  },
  'tenant-admin': {
    sub: 'tenant-admin',
    email: 'tenant-admin@contoso.converge.test',
    name: 'Taylor Contoso Admin',
    role: 'tenant-admin',
    tenantId: customerTenantId,
  },
  'tenant-non-admin': {
    sub: 'tenant-non-admin',
    email: 'tenant-non-admin@contoso.converge.test',
    name: 'Robin Contoso User',
    role: 'tenant-non-admin',
    tenantId: customerTenantId,
  },
} as const satisfies Record<DevRole, DevUser>;

/** Finds a seeded user by subject or e-mail (the test grant's `username` may be either). */
export function findDevUser(login: string): DevUser | undefined {
  const wanted = login.trim().toLowerCase();
  return Object.values(devUsers).find((user) => user.sub === wanted || user.email === wanted);
}

export const devClients = {
  /** The dashboard SPA: public client, authorization code with PKCE. */
  dashboard: {
    clientId: 'converge-dashboard',
    redirectUris: ['http://127.0.0.1:5173/auth/callback', 'http://localhost:5173/auth/callback'],
    postLogoutRedirectUris: ['http://127.0.0.1:5173/', 'http://localhost:5173/'],
  },
  /** A partner integration using client credentials; acts as an MSP admin of the MSP tenant. */
  partner: {
    clientId: 'converge-partner-test',
    // Dev-only secret, published on purpose: this provider never runs in production.
    clientSecret: 'converge-partner-test-dev-only-secret',
    roles: ['msp-admin'],
    tenantId: mspTenantId,
  },
  /** The only client allowed to use the test-user grant. */
  test: {
    clientId: 'converge-test',
    // Dev-only secret, published on purpose: this provider never runs in production.
    clientSecret: 'converge-test-dev-only-secret',
  },
} as const;
