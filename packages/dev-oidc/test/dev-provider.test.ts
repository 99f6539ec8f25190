import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { apiAudience, devClients, devUsers, testUserGrantType } from '@converge/dev-oidc';

// The provider scripts/stack.sh started (jest's global setup), i.e. the real `src/main.ts`.
const issuer = process.env.OIDC_ISSUER ?? 'http://127.0.0.1:18080';
const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));

async function postToken(body: Record<string, string>, client?: { clientId: string; clientSecret: string }) {
  const headers: Record<string, string> = {};
  if (client) {
    headers.authorization = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
  }
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function verifiedClaims(token: unknown): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(String(token), jwks, {
    issuer,
    audience: apiAudience,
  });
  expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
  return payload;
}

describe('dev OIDC provider', () => {
  it('publishes its discovery document with the test-user and client-credentials grants', async () => {
    const discovery = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as JWTPayload;
    expect(discovery).toMatchObject({ issuer, jwks_uri: `${issuer}/jwks` });
    expect(discovery.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'client_credentials', testUserGrantType]),
    );
  });

  it.each(Object.values(devUsers))(
    'issues a JWT for the seeded user $sub through the test grant',
    async (user) => {
      const { status, body } = await postToken(
        { grant_type: testUserGrantType, username: user.email },
        devClients.test,
      );
      expect(status).toBe(200);
      expect(await verifiedClaims(body.access_token)).toMatchObject({
        sub: user.sub,
        email: user.email,
        name: user.name,
        roles: [user.role],
        tid: user.tenantId,
        scope: 'access_as_user',
      });
    },
  );

  it('refuses the test grant for an unknown user, a wrong secret and any other client', async () => {
    const unknown = await postToken({ grant_type: testUserGrantType, username: 'nobody' }, devClients.test);
    expect(unknown).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    const wrongSecret = await postToken(
      { grant_type: testUserGrantType, username: 'msp-admin' },
      { clientId: devClients.test.clientId, clientSecret: 'guess' },
    );
    expect(wrongSecret).toMatchObject({ status: 401, body: { error: 'invalid_client' } });

    const partner = await postToken(
      { grant_type: testUserGrantType, username: 'msp-admin' },
      devClients.partner,
    );
    expect(partner.status).toBe(400);
    expect(partner.body.access_token).toBeUndefined();
  });

  it('issues the partner client an MSP-admin token through client credentials', async () => {
    const { status, body } = await postToken({ grant_type: 'client_credentials' }, devClients.partner);
    expect(status).toBe(200);
    expect(await verifiedClaims(body.access_token)).toMatchObject({
      sub: devClients.partner.clientId,
      roles: ['msp-admin'],
      tid: 'tenant-msp',
      idtyp: 'app',
    });
  });
});

// The dashboard's flow, driven like a browser: login page, consent page, code, PKCE exchange.
describe('dev OIDC provider dashboard login', () => {
  const cookies = new Map<string, string>();
  const redirectUri = devClients.dashboard.redirectUris[0];

  async function browse(url: string, form?: Record<string, string>): Promise<Response> {
    const response = await fetch(new URL(url, issuer), {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
      ...(form ? { body: new URLSearchParams(form) } : {}),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const separator = pair.indexOf('=');
      cookies.set(pair.slice(0, separator), pair.slice(separator + 1));
    }
    return response;
  }

  let code: string;
  const verifier = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    const authorize = new URL(`${issuer}/auth`);
    authorize.search = new URLSearchParams({
      client_id: devClients.dashboard.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid email profile access_as_user',
      state: 'state-1',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();

    let response = await browse(authorize.href);
    for (let step = 0; step < 10; step += 1) {
      const location = response.headers.get('location');
      if (location?.startsWith(redirectUri)) {
        code = new URL(location).searchParams.get('code') ?? '';
        return;
      }
      if (location !== null) {
        response = await browse(location);
        continue;
      }
      // devInteractions pages: a login form, then a consent form, each naming its prompt.
      const page = await response.text();
      const action = /action="([^"]+)"/.exec(page)?.[1];
      const prompt = /name="prompt" value="([a-z]+)"/.exec(page)?.[1];
      if (action === undefined || prompt === undefined) throw new Error(`no form on ${response.url}`);
      response = await browse(action, { prompt, login: 'msp-admin', password: 'any' });
    }
    throw new Error('login flow did not reach the redirect uri');
  });

  it('issues a code that, with the PKCE verifier, yields the logged-in user token', async () => {
    expect(code).not.toBe('');
    const { status, body } = await postToken({
      grant_type: 'authorization_code',
      client_id: devClients.dashboard.clientId,
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
    expect(status).toBe(200);
    expect(await verifiedClaims(body.access_token)).toMatchObject({
      sub: 'msp-admin',
      roles: ['msp-admin'],
      tid: 'tenant-msp',
      client_id: devClients.dashboard.clientId,
    });
  });
});
