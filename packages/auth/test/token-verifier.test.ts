import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UnauthorizedError, UnavailableError } from '@converge/errors';
import { apiAudience, apiScope, devClients, devUsers, testUserGrantType } from '@converge/dev-oidc';
import { SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWTPayload } from 'jose';
import { createTokenVerifier } from '@converge/auth';
import type { TokenVerifier } from '@converge/auth';

const issuer = process.env.OIDC_ISSUER ?? 'http://127.0.0.1:18080';

async function requestToken(clientId: string, clientSecret: string, body: Record<string, string>) {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
    body: new URLSearchParams(body),
  });
  const json = (await response.json()) as { access_token?: string };
  if (!response.ok || json.access_token === undefined)
    throw new Error(`token request failed: ${response.status}`);
  return json.access_token;
}

function resign(token: string, payload: JWTPayload, key: CryptoKey | Uint8Array, alg: string) {
  return new SignJWT(payload).setProtectedHeader({ ...decodeProtectedHeader(token), alg }).sign(key);
}

describe('createTokenVerifier against the dev OIDC provider', () => {
  let verify: TokenVerifier;
  let userToken: string;

  beforeAll(async () => {
    verify = createTokenVerifier({ issuer, audience: apiAudience });
    userToken = await requestToken(devClients.test.clientId, devClients.test.clientSecret, {
      grant_type: testUserGrantType,
      username: devUsers['tenant-admin'].email,
    });
  });

  it('verifies a user token found through discovery and maps it to the user', async () => {
    await expect(verify(userToken)).resolves.toEqual({
      issuer,
      subject: 'tenant-admin',
      kind: 'user',
      name: devUsers['tenant-admin'].name,
      email: devUsers['tenant-admin'].email,
      roles: ['tenant-admin'],
      tenantId: 'tenant-contoso',
      scopes: ['access_as_user'],
    });
  });

  it('verifies a partner client-credentials token as an MSP admin client', async () => {
    const token = await requestToken(devClients.partner.clientId, devClients.partner.clientSecret, {
      grant_type: 'client_credentials',
    });
    await expect(verify(token)).resolves.toMatchObject({
      subject: devClients.partner.clientId,
      kind: 'client',
      roles: ['msp-admin'],
      tenantId: 'tenant-msp',
    });
  });

  it('rejects a token whose payload was changed after signing', async () => {
    const [header, , signature] = userToken.split('.');
    const payload = Buffer.from(
      JSON.stringify({ ...decodeJwt(userToken), roles: ['msp-admin'], tid: 'tenant-msp' }),
    ).toString('base64url');
    await expect(verify(`${header!}.${payload}.${signature!}`)).rejects.toThrow(UnauthorizedError);
  });

  it('rejects an unsigned (alg none) token with valid claims', async () => {
    const unsigned = new UnsecuredJWT(decodeJwt(userToken)).encode();
    await expect(verify(unsigned)).rejects.toThrow(UnauthorizedError);
  });

  it("rejects a token signed by another key under the provider's key id", async () => {
    const { privateKey } = await generateKeyPair('RS256');
    await expect(verify(await resign(userToken, decodeJwt(userToken), privateKey, 'RS256'))).rejects.toThrow(
      UnauthorizedError,
    );
  });

  it("rejects an HS256 token keyed with the provider's public key", async () => {
    const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as { keys: unknown[] };
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    await expect(verify(await resign(userToken, decodeJwt(userToken), secret, 'HS256'))).rejects.toThrow(
      UnauthorizedError,
    );
  });

  it('rejects a real token meant for another audience or from another issuer', async () => {
    const otherAudience = createTokenVerifier({ issuer, audience: 'api://other' });
    await expect(otherAudience(userToken)).rejects.toThrow(UnauthorizedError);
    const otherIssuer = createTokenVerifier({
      issuer: 'https://login.example.test',
      audience: apiAudience,
      jwksUri: `${issuer}/jwks`,
    });
    await expect(otherIssuer(userToken)).rejects.toThrow(UnauthorizedError);
  });

  it('rejects garbage and empty tokens', async () => {
    await expect(verify('not-a-jwt')).rejects.toThrow(UnauthorizedError);
    await expect(verify('')).rejects.toThrow(UnauthorizedError);
  });
});

// Claim checks with a key the test controls: each bad token differs from a good one in one claim.
describe('createTokenVerifier claim checks', () => {
  const testIssuer = 'https://issuer.converge.test';
  let server: Server;
  let privateKey: CryptoKey;
  let verify: TokenVerifier;
  let jwksUri: string;

  let rs384Key: CryptoKey;

  const sign = (claims: JWTPayload, alg = 'RS256', header: { typ?: string } = { typ: 'at+jwt' }) =>
    new SignJWT({ roles: ['msp-admin'], tid: 'tenant-msp', ...claims })
      .setProtectedHeader({ alg, kid: alg === 'RS384' ? 'rs384-key' : 'test-key', ...header })
      .sign(alg === 'RS384' ? rs384Key : privateKey);
  const now = () => Math.floor(Date.now() / 1000);
  const hour = 60 * 60;
  const year = 365 * 24 * hour;
  const valid = () => ({
    iss: testIssuer,
    aud: apiAudience,
    sub: 'u1',
    scope: apiScope,
    iat: now(),
    exp: now() + 300,
  });

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    const rs384Pair = await generateKeyPair('RS384');
    privateKey = pair.privateKey;
    rs384Key = rs384Pair.privateKey;
    const jwks = JSON.stringify({
      keys: [
        { ...(await exportJWK(pair.publicKey)), kid: 'test-key' },
        { ...(await exportJWK(rs384Pair.publicKey)), kid: 'rs384-key' },
      ],
    });
    server = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(jwks));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    verify = createTokenVerifier({ issuer: testIssuer, audience: apiAudience, jwksUri });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('accepts a well-formed token', async () => {
    await expect(verify(await sign(valid()))).resolves.toMatchObject({ subject: 'u1', roles: ['msp-admin'] });
  });

  it('rejects an expired token', async () => {
    await expect(verify(await sign({ ...valid(), exp: now() - 120 }))).rejects.toThrow(UnauthorizedError);
  });

  it('accepts a just-expired token within the configured clock tolerance', async () => {
    const tolerant = createTokenVerifier({
      issuer: testIssuer,
      audience: apiAudience,
      jwksUri,
      clockToleranceSeconds: 300,
    });
    await expect(tolerant(await sign({ ...valid(), exp: now() - 120 }))).resolves.toMatchObject({
      subject: 'u1',
    });
  });

  it('rejects a token that never expires', async () => {
    await expect(verify(await sign({ ...valid(), exp: undefined }))).rejects.toThrow(UnauthorizedError);
  });

  it('rejects a wrong audience and a wrong issuer', async () => {
    await expect(verify(await sign({ ...valid(), aud: 'api://other' }))).rejects.toThrow(UnauthorizedError);
    await expect(verify(await sign({ ...valid(), iss: 'https://evil.test' }))).rejects.toThrow(
      UnauthorizedError,
    );
  });

  it('rejects an algorithm outside the allowed list', async () => {
    await expect(verify(await sign(valid(), 'RS384'))).rejects.toThrow(UnauthorizedError);
    const rs384 = createTokenVerifier({
      issuer: testIssuer,
      audience: apiAudience,
      jwksUri,
      algorithms: ['RS384'],
    });
    await expect(rs384(await sign(valid(), 'RS384'))).resolves.toMatchObject({ subject: 'u1' });
  });

  it("accepts only access tokens by their JWT type: at+jwt by default, the issuer's type when configured", async () => {
    await expect(verify(await sign(valid(), 'RS256', { typ: 'application/at+jwt' }))).resolves.toMatchObject({
      subject: 'u1',
    });
    // An ID token or any other JWT the issuer signed for the same audience is not an access token.
    for (const typ of ['JWT', 'id+jwt', 'logout+jwt', undefined])
      await expect(verify(await sign(valid(), 'RS256', typ === undefined ? {} : { typ }))).rejects.toThrow(
        'the token is not an access token',
      );
    // Entra ID v2 and Keycloak access tokens say `JWT`.
    const entra = createTokenVerifier({
      issuer: testIssuer,
      audience: apiAudience,
      jwksUri,
      tokenTypes: ['JWT'],
    });
    await expect(
      entra(
        await sign({ ...valid(), scope: undefined, scp: `${apiScope} Other.Read` }, 'RS256', { typ: 'JWT' }),
      ),
    ).resolves.toMatchObject({ subject: 'u1' });
    await expect(entra(await sign(valid()))).rejects.toThrow(UnauthorizedError);
  });

  it('requires the API scope of a user token, and an app role of an application token', async () => {
    await expect(verify(await sign({ ...valid(), scope: 'openid profile' }))).rejects.toThrow(
      `the token does not carry the scope ${apiScope}`,
    );
    await expect(verify(await sign({ ...valid(), scope: undefined }))).rejects.toThrow(UnauthorizedError);
    const other = createTokenVerifier({
      issuer: testIssuer,
      audience: apiAudience,
      jwksUri,
      scope: 'Converge.Use',
    });
    await expect(other(await sign({ ...valid(), scope: 'Converge.Use' }))).resolves.toMatchObject({
      subject: 'u1',
    });
    await expect(other(await sign(valid()))).rejects.toThrow(UnauthorizedError);

    // Client credentials carry no delegated scope: the app roles granted to the client stand for it.
    const app = { ...valid(), scope: undefined, sub: 'partner', client_id: 'partner', idtyp: 'app' };
    await expect(verify(await sign(app))).resolves.toMatchObject({ subject: 'partner', kind: 'client' });
    await expect(verify(await sign({ ...app, roles: [] }))).rejects.toThrow(
      'the token carries no app role for this API',
    );
  });

  it('rejects a token issued in the future beyond the clock skew, or without an issue time', async () => {
    await expect(verify(await sign({ ...valid(), iat: now() + 30 }))).resolves.toMatchObject({
      subject: 'u1',
    });
    await expect(verify(await sign({ ...valid(), iat: now() + 10 * 60, exp: now() + hour }))).rejects.toThrow(
      UnauthorizedError,
    );
    await expect(
      verify(await sign({ ...valid(), iat: now() + year, exp: now() + year + hour })),
    ).rejects.toThrow(UnauthorizedError);
    await expect(verify(await sign({ ...valid(), iat: undefined }))).rejects.toThrow(UnauthorizedError);
  });

  it('rejects a token that lives longer than the maximum lifetime, 24 hours unless configured', async () => {
    await expect(verify(await sign({ ...valid(), exp: now() + 24 * hour }))).resolves.toMatchObject({
      subject: 'u1',
    });
    await expect(verify(await sign({ ...valid(), exp: now() + 100 * year }))).rejects.toThrow(
      'the token lives longer than 86400 seconds',
    );
    await expect(verify(await sign({ ...valid(), exp: now() + 24 * hour + 60 }))).rejects.toThrow(
      UnauthorizedError,
    );
    const shortLived = createTokenVerifier({
      issuer: testIssuer,
      audience: apiAudience,
      jwksUri,
      maxLifetimeSeconds: hour,
    });
    await expect(shortLived(await sign({ ...valid(), exp: now() + 2 * hour }))).rejects.toThrow(
      UnauthorizedError,
    );
  });

  it('refuses a clock tolerance over 5 minutes', () => {
    expect(() =>
      createTokenVerifier({ issuer: testIssuer, audience: apiAudience, jwksUri, clockToleranceSeconds: 301 }),
    ).toThrow(RangeError);
  });
});

describe('createTokenVerifier when the issuer is unreachable', () => {
  it('answers unavailable, not unauthorized, and does not cache the failed discovery', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const verify = createTokenVerifier({ issuer: `http://127.0.0.1:${port}`, audience: apiAudience });
    const token = new UnsecuredJWT({ sub: 'u1' }).encode();
    await expect(verify(token)).rejects.toThrow(UnavailableError);
    await expect(verify(token)).rejects.toThrow(UnavailableError);
  });
});
