// The seeded identities only: importing them does not start or load the provider.
export {
  apiAudience,
  apiScope,
  customerTenantId,
  devClients,
  devTenants,
  devUsers,
  findDevUser,
  mspTenantId,
  testUserGrantType,
} from './dev-accounts.ts';
export type { DevRole, DevTenant, DevUser } from './dev-accounts.ts';
export { seedDevTenants } from './dev-tenants.ts';
