import { describe, expect, it } from '@jest/globals';
import { UnauthorizedError } from '@converge/errors';
import { principalFromClaims } from './principal-claims.ts';

describe('principalFromClaims', () => {
  it('maps a user token to a user principal with its roles, tenant and scopes', () => {
    const principal = principalFromClaims({
      sub: 'u1',
      name: 'Taylor',
      email: 'taylor@contoso.test',
      roles: ['tenant-admin'],
      tid: 'tenant-contoso',
      scope: 'access_as_user openid',
    });
    expect(principal).toEqual({
      subject: 'u1',
      kind: 'user',
      name: 'Taylor',
      email: 'taylor@contoso.test',
      roles: ['tenant-admin'],
      tenantId: 'tenant-contoso',
      scopes: ['access_as_user', 'openid'],
    });
  });

  it('ignores roles the product does not know and duplicates', () => {
    const principal = principalFromClaims({
      sub: 'u1',
      roles: ['Global.Admin', 'msp-admin', 42, 'msp-admin'],
    });
    expect(principal.roles).toEqual(['msp-admin']);
  });

  it('gives no roles, tenant or scopes when the claims are missing or malformed', () => {
    const principal = principalFromClaims({ sub: 'u1', roles: 'msp-admin', tid: 7, scope: ['a'] });
    expect(principal).toEqual({ subject: 'u1', kind: 'user', roles: [], tenantId: undefined, scopes: [] });
  });

  it("reads Entra ID's scp claim as scopes", () => {
    expect(principalFromClaims({ sub: 'u1', scp: 'Computers.Read  Sessions.Write' }).scopes).toEqual([
      'Computers.Read',
      'Sessions.Write',
    ]);
  });

  it('treats an app-only token (idtyp app) as a client', () => {
    expect(principalFromClaims({ sub: 'sp-1', idtyp: 'app', roles: ['msp-admin'] }).kind).toBe('client');
  });

  it('treats a token whose subject is its client id as a client', () => {
    expect(principalFromClaims({ sub: 'partner', client_id: 'partner' }).kind).toBe('client');
  });

  it('treats idtyp user as a user even when the subject equals the client id', () => {
    expect(principalFromClaims({ sub: 'x', client_id: 'x', idtyp: 'user' }).kind).toBe('user');
  });

  it('rejects a token without a subject', () => {
    expect(() => principalFromClaims({ roles: ['msp-admin'] })).toThrow(UnauthorizedError);
  });
});
