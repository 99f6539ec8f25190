import { describe, expect, it } from '@jest/globals';
import type { Principal, Role } from '@converge/auth';
import { ForbiddenError } from '@converge/errors';
import { allTenants } from '@converge/store';
import { authorize, authorizeSubtree, can, canGrant, tenantScopeOf } from './index.ts';

/** `tenantId: null` makes a principal whose token names no tenant. */
function user(role: Role | null, tenantId: string | null = 'tenant-contoso'): Principal {
  return {
    issuer: 'https://issuer.test',
    subject: 'someone',
    kind: 'user',
    roles: role === null ? [] : [role],
    tenantId: tenantId ?? undefined,
    scopes: [],
  };
}

describe('permissions', () => {
  it('give MSP admins everything', () => {
    expect(can(user('msp-admin'), 'manage-cross-tenant-deployments')).toBe(true);
    expect(can(user('msp-admin'), 'impersonate')).toBe(true);
  });

  it('keep MSP non-admins from schedules, users and cross-tenant deployments', () => {
    const nonAdmin = user('msp-non-admin');
    expect(can(nonAdmin, 'manage-schedules')).toBe(false);
    expect(can(nonAdmin, 'manage-users')).toBe(false);
    expect(can(nonAdmin, 'manage-cross-tenant-deployments')).toBe(false);
    expect(can(nonAdmin, 'manage-tenant-deployments')).toBe(true);
    expect(can(nonAdmin, 'manage-individual-deployments')).toBe(true);
  });

  it('let tenant admins manage their tenant but never across tenants', () => {
    const admin = user('tenant-admin');
    expect(can(admin, 'manage-schedules')).toBe(true);
    expect(can(admin, 'manage-users')).toBe(true);
    expect(can(admin, 'manage-cross-tenant-deployments')).toBe(false);
    expect(can(admin, 'manage-tenants')).toBe(false);
  });

  it('let tenant non-admins only create deployments for individual computers and people', () => {
    const nonAdmin = user('tenant-non-admin');
    expect(can(nonAdmin, 'manage-individual-deployments')).toBe(true);
    expect(can(nonAdmin, 'manage-tenant-deployments')).toBe(false);
    expect(can(nonAdmin, 'manage-schedules')).toBe(false);
    expect(can(nonAdmin, 'manage-users')).toBe(false);
  });

  it('give nothing to a principal without a role', () => {
    expect(can(user(null), 'read')).toBe(false);
  });
});

describe('the rights ceiling of user management', () => {
  it('lets an MSP admin grant every role', () => {
    for (const role of ['msp-admin', 'msp-non-admin', 'tenant-admin', 'tenant-non-admin'] as const) {
      expect(canGrant(user('msp-admin', 'tenant-msp'), role)).toBe(true);
    }
  });

  it('lets a tenant admin grant tenant roles, never an MSP role', () => {
    const admin = user('tenant-admin');
    expect(canGrant(admin, 'tenant-admin')).toBe(true);
    expect(canGrant(admin, 'tenant-non-admin')).toBe(true);
    expect(canGrant(admin, 'msp-admin')).toBe(false);
    // An MSP non-admin's actions are each a tenant admin's too, but in every tenant instead of one.
    expect(canGrant(admin, 'msp-non-admin')).toBe(false);
  });

  it('never lets a principal grant a role that allows more than its own', () => {
    expect(canGrant(user('tenant-non-admin'), 'tenant-admin')).toBe(false);
    expect(canGrant(user('msp-non-admin', 'tenant-msp'), 'tenant-admin')).toBe(false);
    expect(canGrant(user('msp-non-admin', 'tenant-msp'), 'msp-admin')).toBe(false);
    expect(canGrant(user(null), 'tenant-non-admin')).toBe(false);
  });
});

describe('tenant scope', () => {
  it('is every tenant for MSP users and the own tenant for tenant users', () => {
    expect(tenantScopeOf(user('msp-non-admin', 'tenant-msp'))).toBe(allTenants);
    expect(tenantScopeOf(user('tenant-admin', 'tenant-contoso'))).toBe('tenant-contoso');
  });

  it('refuses a tenant user without a tenant, and a principal without a role', () => {
    expect(() => tenantScopeOf(user('tenant-admin', null))).toThrow(ForbiddenError);
    expect(() => tenantScopeOf(user(null))).toThrow(ForbiddenError);
  });

  it('refuses an action in another tenant as it refuses a missing permission', () => {
    expect(() => {
      authorize(user('tenant-admin', 'tenant-contoso'), 'manage-computers', 'tenant-fabrikam');
    }).toThrow(ForbiddenError);
    expect(() => {
      authorize(user('tenant-non-admin'), 'manage-computers', 'tenant-contoso');
    }).toThrow(ForbiddenError);
    expect(() => {
      authorize(user('tenant-admin', 'tenant-contoso'), 'manage-computers', 'tenant-contoso');
    }).not.toThrow();
    expect(() => {
      authorize(user('msp-admin', 'tenant-msp'), 'manage-computers', 'tenant-fabrikam');
    }).not.toThrow();
  });

  it('gives rights over a tenant and its child tenants only to principals who may act in every tenant', () => {
    // A tenant admin's access ends at its tenant: its children, existing or added later, are not its own.
    expect(() => {
      authorizeSubtree(user('tenant-admin', 'tenant-contoso'), 'manage-tenant-deployments', 'tenant-contoso');
    }).toThrow(/in child tenants/);
    expect(() => {
      authorizeSubtree(
        user('tenant-admin', 'tenant-contoso'),
        'manage-tenant-deployments',
        'tenant-fabrikam',
      );
    }).toThrow(ForbiddenError);
    expect(() => {
      authorizeSubtree(user('msp-non-admin', 'tenant-msp'), 'manage-tenant-deployments', 'tenant-contoso');
    }).not.toThrow();
    expect(() => {
      authorizeSubtree(user('msp-non-admin', 'tenant-msp'), 'manage-schedules', 'tenant-contoso');
    }).toThrow(ForbiddenError);
  });
});
