// The seeded identities only: importing them does not start or load the provider.
export {
  apiAudience,
  apiScope,
  customerTenantId,
  devClients,
  devUsers,
  findDevUser,
  mspTenantId,
  testUserGrantType,
} from './dev-accounts.ts';
export type { DevRole, DevUser } from './dev-accounts.ts';
