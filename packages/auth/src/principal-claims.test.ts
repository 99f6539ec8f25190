import { describe, expect, it } from '@jest/globals';
import { UnauthorizedError } from '@converge/errors';
import { principalFromClaims } from './principal-claims.ts';

const iss = 'https://login.example.test/directory/v2.0';

describe('principalFromClaims', () => {
  it('maps a user token to a user principal with its roles, tenant and scopes', () => {
    const principal = principalFromClaims({
      iss,
      sub: 'u1',
      name: 'Taylor',
      email: 'taylor@contoso.test',
      roles: ['tenant-admin'],
      tid: 'tenant-contoso',
      scope: 'access_as_user openid',
    });
    expect(principal).toEqual({
      issuer: iss,
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
      iss,
      sub: 'u1',
      roles: ['Global.Admin', 'msp-admin', 42, 'msp-admin'],
    });
    expect(principal.roles).toEqual(['msp-admin']);
  });

  it('gives no roles, tenant or scopes when the claims are missing or malformed', () => {
    const principal = principalFromClaims({ iss, sub: 'u1', roles: 'msp-admin', tid: 7, scope: ['a'] });
    expect(principal).toEqual({
      issuer: iss,
      subject: 'u1',
      kind: 'user',
      roles: [],
      tenantId: undefined,
      scopes: [],
    });
  });

  it("reads Entra ID's scp claim as scopes", () => {
    expect(principalFromClaims({ iss, sub: 'u1', scp: 'Computers.Read  Sessions.Write' }).scopes).toEqual([
      'Computers.Read',
      'Sessions.Write',
    ]);
  });

  it('treats an app-only token (idtyp app) as a client', () => {
    expect(principalFromClaims({ iss, sub: 'sp-1', idtyp: 'app', roles: ['msp-admin'] }).kind).toBe('client');
  });

  it('treats a token whose subject is its client id as a client', () => {
    expect(principalFromClaims({ iss, sub: 'partner', client_id: 'partner' }).kind).toBe('client');
  });

  it('treats idtyp user as a user even when the subject equals the client id', () => {
    expect(principalFromClaims({ iss, sub: 'x', client_id: 'x', idtyp: 'user' }).kind).toBe('user');
  });

  it('rejects a token without a subject or an issuer', () => {
    expect(() => principalFromClaims({ iss, roles: ['msp-admin'] })).toThrow(UnauthorizedError);
    expect(() => principalFromClaims({ sub: 'u1', roles: ['msp-admin'] })).toThrow(UnauthorizedError);
  });
});
