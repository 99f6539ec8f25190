import { describe, expect, it } from '@jest/globals';
import { createTokenVerifier, roles } from '@converge/auth';
import { devUsers } from '@converge/dev-oidc';
import { getAccessToken, stack } from '@converge/testing';

const verify = createTokenVerifier({ issuer: stack.oidcIssuer, audience: stack.apiAudience });

describe('getAccessToken', () => {
  it.each(roles)('returns a verifiable token of the seeded %s user', async (role) => {
    const principal = await verify(await getAccessToken(role));
    expect(principal).toMatchObject({
      subject: devUsers[role].sub,
      kind: 'user',
      roles: [role],
      tenantId: devUsers[role].tenantId,
    });
  });

  it('returns a client-credentials token for the partner client', async () => {
    await expect(verify(await getAccessToken('partner'))).resolves.toMatchObject({
      kind: 'client',
      roles: ['msp-admin'],
      tenantId: 'tenant-msp',
    });
  });
});
