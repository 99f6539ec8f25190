import { describe, expect, it } from '@jest/globals';
import type { Principal } from '@converge/auth';
import { effectivePrincipal, type EffectiveAccessRecord } from './effective-access.ts';
import { tenantScopeOf } from './tenant-scope.ts';
import { ForbiddenError } from '@converge/errors';

const token: Principal = {
  issuer: 'https://issuer.test',
  subject: 'someone',
  kind: 'user',
  roles: ['msp-admin'],
  tenantId: 'tenant-msp',
  scopes: ['access_as_user'],
};
const now = new Date('2026-05-01T12:00:00Z');

function record(overrides: Partial<EffectiveAccessRecord> = {}): EffectiveAccessRecord {
  return {
    userId: 'u-1',
    issuer: 'https://issuer.test',
    subject: 'someone',
    roles: ['tenant-non-admin'],
    tenantId: 'tenant-contoso',
    expiresAt: null,
    ...overrides,
  };
}

describe('effective principal', () => {
  it('keeps the token as it is when no access was granted in Converge', () => {
    expect(effectivePrincipal(token, null, now)).toBe(token);
  });

  it('takes roles and tenant from the granted access over the token', () => {
    const principal = effectivePrincipal(token, record(), now);
    expect(principal).toMatchObject({ roles: ['tenant-non-admin'], tenantId: 'tenant-contoso' });
    expect(principal.scopes).toEqual(['access_as_user']);
  });

  it('leaves no role once the access expired, so every scope check refuses', () => {
    const expired = effectivePrincipal(token, record({ expiresAt: '2026-05-01T12:00:00Z' }), now);
    expect(expired.roles).toEqual([]);
    expect(() => tenantScopeOf(expired)).toThrow(ForbiddenError);
    const current = effectivePrincipal(token, record({ expiresAt: '2026-05-01T12:00:01Z' }), now);
    expect(current.roles).toEqual(['tenant-non-admin']);
  });

  it('leaves no role for a removed user even though the token carries one', () => {
    expect(effectivePrincipal(token, record({ roles: [] }), now).roles).toEqual([]);
  });

  it('never overrides an application (client-credentials) token, whatever a record says', () => {
    const partner: Principal = { ...token, subject: 'partner-client', kind: 'client' };
    expect(effectivePrincipal(partner, record({ subject: 'partner-client', roles: [] }), now)).toBe(partner);
  });
});
