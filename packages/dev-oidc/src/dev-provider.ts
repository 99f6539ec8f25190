import { randomBytes } from 'node:crypto';
import type { AccessToken, ClientCredentials, Configuration, JWKS, ResourceServer } from 'oidc-provider';
import { Provider, errors } from 'oidc-provider';
import { apiAudience, apiScope, devClients, findDevUser, testUserGrantType } from './dev-accounts.ts';
import { registerTestUserGrant } from './test-user-grant.ts';

const tokenLifetimeSeconds = 60 * 60;

const apiResource: ResourceServer = {
  scope: apiScope,
  audience: apiAudience,
  accessTokenFormat: 'jwt',
  accessTokenTTL: tokenLifetimeSeconds,
  jwt: { sign: { alg: 'RS256' } },
};

// Claims the API authorizes on, shaped like Entra ID's app roles (`roles`) and tenant (`tid`).
function tokenClaims(token: AccessToken | ClientCredentials): Record<string, unknown> | undefined {
  if (token.kind === 'ClientCredentials') {
    const { partner } = devClients;
    if (token.clientId !== partner.clientId) return undefined;
    return { roles: partner.roles, tid: partner.tenantId, idtyp: 'app' };
  }
  const user = findDevUser(token.accountId);
  if (!user) return undefined;
  return { email: user.email, name: user.name, roles: [user.role], tid: user.tenantId, idtyp: 'user' };
}

function configuration(jwks: JWKS): Configuration {
  const { dashboard, partner, test } = devClients;
  return {
    jwks,
    clients: [
      {
        client_id: dashboard.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [...dashboard.redirectUris],
        post_logout_redirect_uris: [...dashboard.postLogoutRedirectUris],
      },
      {
        client_id: partner.clientId,
        client_secret: partner.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: test.clientId,
        client_secret: test.clientSecret,
        grant_types: [testUserGrantType],
        response_types: [],
        redirect_uris: [],
      },
    ],
    // Session cookies only need to survive one process; a restart simply asks to log in again.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: {
      openid: ['sub', 'roles', 'tid'],
      email: ['email'],
      profile: ['name'],
    },
    scopes: ['openid', 'offline_access', apiScope],
    // Only the exact `sub`: the login page's answer becomes the session's account id as typed.
    findAccount: (_ctx, sub) => {
      const user = findDevUser(sub);
      if (user?.sub !== sub) return undefined;
      return {
        accountId: user.sub,
        claims: () => ({
          sub: user.sub,
          email: user.email,
          name: user.name,
          roles: [user.role],
          tid: user.tenantId,
        }),
      };
    },
    extraTokenClaims: (_ctx, token) => tokenClaims(token),
    features: {
      // The built-in login page accepts any seeded user name (`sub`) with any password.
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => apiAudience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== apiAudience) throw new errors.InvalidTarget();
          return apiResource;
        },
      },
    },
    ttl: {
      AccessToken: tokenLifetimeSeconds,
      ClientCredentials: tokenLifetimeSeconds,
      IdToken: tokenLifetimeSeconds,
      Grant: 24 * 60 * 60,
      Interaction: 60 * 60,
      Session: 24 * 60 * 60,
      RefreshToken: 24 * 60 * 60,
    },
  };
}

/** A development OpenID Connect provider with the seeded users and clients of `dev-accounts.ts`. */
export function createDevProvider(opts: { issuer: string; jwks: JWKS }): Provider {
  const provider = new Provider(opts.issuer, configuration(opts.jwks));
  registerTestUserGrant(provider, apiResource);
  return provider;
}
