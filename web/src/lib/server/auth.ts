import type { Cookies } from '@sveltejs/kit';
import * as oidc from 'openid-client';
import { webConfig } from '../../../server/config.ts';
import {
  CookieSealer,
  sessionCookieName,
  unsealSession,
  type DashboardSession,
  type DashboardUser,
} from '../../../server/session-cookie.ts';

const signInCookieName = 'converge_sign_in';

interface SignInState {
  codeVerifier: string;
  state: string;
  returnTo: string;
}

let sealer: CookieSealer | undefined;
const cookieSealer = () => (sealer ??= new CookieSealer(webConfig().session.key));

let discovered: Promise<oidc.Configuration> | undefined;

/** The issuer's metadata, discovered once (and again after a failure). */
function provider(): Promise<oidc.Configuration> {
  const { issuer, clientId, clientSecret } = webConfig().oidc;
  discovered ??= oidc
    .discovery(
      new URL(issuer),
      clientId,
      clientSecret,
      clientSecret === undefined ? oidc.None() : undefined,
      // Only the loopback development provider is plain HTTP (the library marks the option deprecated to flag it).
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      new URL(issuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
    )
    .catch((error: unknown) => {
      discovered = undefined;
      throw error;
    });
  return discovered;
}

const callbackUrl = () => new URL('/auth/callback', webConfig().publicUrl).href;

function cookieOptions(maxAge: number, path = '/') {
  return { path, httpOnly: true, sameSite: 'lax' as const, secure: webConfig().session.secureCookie, maxAge };
}

/** Only a path of this origin: never an open redirect to somewhere else. */
export function safeReturnPath(value: string | null): string {
  return value?.startsWith('/') === true && !value.startsWith('//') && !value.startsWith('/\\') ? value : '/';
}

/** Starts the authorization code flow with PKCE; answers the provider's authorization URL to redirect to. */
export async function beginSignIn(cookies: Cookies, returnTo: string): Promise<URL> {
  const config = await provider();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const { scope, resource } = webConfig().oidc;
  const parameters: Record<string, string> = {
    redirect_uri: callbackUrl(),
    scope: `openid profile email offline_access ${scope}`,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    // Refresh tokens need consent to offline access from some providers (the development one among them).
    prompt: 'consent',
  };
  if (resource !== undefined) parameters.resource = resource;
  const signIn: SignInState = { codeVerifier, state, returnTo: safeReturnPath(returnTo) };
  cookies.set(signInCookieName, cookieSealer().seal(signIn), cookieOptions(600, '/auth'));
  return oidc.buildAuthorizationUrl(config, parameters);
}

/** The access token's claims: where Entra ID, Keycloak and the development provider put roles and tenant. */
function accessTokenClaims(accessToken: string): Record<string, unknown> {
  const payload = accessToken.split('.')[1] ?? '';
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function sessionFrom(
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  previous?: DashboardSession,
) {
  const claims = { ...accessTokenClaims(tokens.access_token), ...(tokens.claims() ?? {}) };
  const text = (name: string) => (typeof claims[name] === 'string' ? claims[name] : undefined);
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((role) => typeof role === 'string') : [];
  const sub = text('sub') ?? previous?.user.sub ?? '';
  const user: DashboardUser = previous?.user ?? {
    sub,
    name: text('name') ?? text('email') ?? text('preferred_username') ?? sub,
    roles,
    ...(text('email') === undefined ? {} : { email: text('email') }),
    ...(text('tid') === undefined ? {} : { tenantId: text('tid') }),
  };
  const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
  return {
    accessToken: tokens.access_token,
    ...(refreshToken === undefined ? {} : { refreshToken }),
    expiresAt: Math.floor(Date.now() / 1000) + (tokens.expiresIn() ?? 300),
    user,
  } satisfies DashboardSession;
}

function keepSession(cookies: Cookies, session: DashboardSession): void {
  cookies.set(
    sessionCookieName,
    cookieSealer().seal(session),
    cookieOptions(webConfig().session.lifetimeSeconds),
  );
}

/** Finishes the flow on the callback: exchanges the code (checking state and PKCE) and keeps the session. */
export async function completeSignIn(cookies: Cookies, url: URL): Promise<string> {
  const signIn = cookieSealer().unseal(cookies.get(signInCookieName)) as SignInState | undefined;
  cookies.delete(signInCookieName, { path: '/auth' });
  if (signIn === undefined) throw new Error('the sign-in expired or was started in another browser');
  const config = await provider();
  // The callback URL as the provider was told it (the public origin), not as this process saw the request.
  const current = new URL(`${callbackUrl()}${url.search}`);
  const tokens = await oidc.authorizationCodeGrant(config, current, {
    pkceCodeVerifier: signIn.codeVerifier,
    expectedState: signIn.state,
  });
  keepSession(cookies, sessionFrom(tokens));
  return signIn.returnTo;
}

/**
 * The signed-in technician's session; an access token about to expire is refreshed first. A session that
 * cannot be refreshed is ended.
 */
export async function currentSession(cookies: Cookies): Promise<DashboardSession | undefined> {
  const session = unsealSession(cookieSealer(), cookies.get(sessionCookieName));
  if (session === undefined) return undefined;
  if (session.expiresAt - Date.now() / 1000 > 60) return session;
  if (session.refreshToken !== undefined) {
    try {
      const refreshed = sessionFrom(
        await oidc.refreshTokenGrant(await provider(), session.refreshToken),
        session,
      );
      keepSession(cookies, refreshed);
      return refreshed;
    } catch {
      // Refused or unreachable: sign in again.
    }
  }
  cookies.delete(sessionCookieName, { path: '/' });
  return undefined;
}

/** Ends the session here and answers where to end it at the provider (if it supports that). */
export async function signOut(cookies: Cookies): Promise<string> {
  cookies.delete(sessionCookieName, { path: '/' });
  const config = await provider().catch(() => undefined);
  if (config?.serverMetadata().end_session_endpoint === undefined) return '/';
  return oidc
    .buildEndSessionUrl(config, {
      client_id: webConfig().oidc.clientId,
      post_logout_redirect_uri: new URL('/', webConfig().publicUrl).href,
    })
    .toString();
}
