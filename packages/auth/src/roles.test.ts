import { describe, expect, it } from '@jest/globals';
import { hasRole, isMspUser, isRole } from './roles.ts';
import type { Principal, Role } from './roles.ts';

function principal(...roles: Role[]): Principal {
  return {
    issuer: 'https://issuer.test',
    subject: 's',
    kind: 'user',
    roles,
    tenantId: 'tenant-a',
    scopes: [],
  };
}

describe('roles', () => {
  it('hasRole is true when the principal holds any of the wanted roles', () => {
    expect(hasRole(principal('tenant-admin'), 'msp-admin', 'tenant-admin')).toBe(true);
    expect(hasRole(principal('tenant-non-admin'), 'msp-admin', 'tenant-admin')).toBe(false);
    expect(hasRole(principal('msp-admin'))).toBe(false);
  });

  it('MSP admins and MSP non-admins are MSP users, tenant users are not', () => {
    expect(isMspUser(principal('msp-admin'))).toBe(true);
    expect(isMspUser(principal('msp-non-admin'))).toBe(true);
    expect(isMspUser(principal('tenant-admin', 'tenant-non-admin'))).toBe(false);
    expect(isMspUser(principal())).toBe(false);
  });

  it('isRole accepts only the four product roles', () => {
    expect(isRole('tenant-non-admin')).toBe(true);
    expect(isRole('Tenant-Admin')).toBe(false);
    expect(isRole(undefined)).toBe(false);
  });
});
