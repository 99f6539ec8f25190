import { UnauthorizedError, UnavailableError } from '@converge/errors';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTHeaderParameters, JWTPayload, JWTVerifyGetKey } from 'jose';
import { principalFromClaims } from './principal-claims.ts';
import type { Principal } from './roles.ts';

export type TokenVerifier = (token: string) => Promise<Principal>;

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** Default: the `jwks_uri` of the issuer's discovery document. */
  jwksUri?: string;
  algorithms?: string[];
  /**
   * The JWT header `typ` values of the issuer's access tokens (case-insensitive, an `application/` prefix
   * ignored). Default `at+jwt` (RFC 9068; the development provider, Auth0, Okta); Entra ID v2 and Keycloak
   * access tokens say `JWT`, which then rests on the audience and scope to tell them from ID tokens.
   */
  tokenTypes?: string[];
  /** The delegated scope a user's token must carry (`scope` or Entra's `scp`). Default `access_as_user`. */
  scope?: string;
  /** Allowed difference between the issuer's clock and ours, at most 300. Default 60. */
  clockToleranceSeconds?: number;
  /** The longest lifetime (`exp` - `iat`) accepted. Default 24 hours. */
  maxLifetimeSeconds?: number;
}

const defaultAlgorithms = ['RS256', 'ES256', 'PS256'];
const defaultTokenTypes = ['at+jwt'];
const defaultScope = 'access_as_user';
const defaultClockToleranceSeconds = 60;
const maxClockToleranceSeconds = 5 * 60;
const defaultMaxLifetimeSeconds = 24 * 60 * 60;

function mediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`OIDC discovery at ${url} answered ${response.status}`);
  const { jwks_uri: jwksUri } = (await response.json()) as { jwks_uri?: unknown };
  if (typeof jwksUri !== 'string') throw new Error(`OIDC discovery at ${url} has no jwks_uri`);
  return jwksUri;
}

// Discovery runs on first use (the verifier is created synchronously at start) and is retried
// after a failure instead of caching it.
function lazyKeySet(opts: TokenVerifierOptions): () => Promise<JWTVerifyGetKey> {
  if (opts.jwksUri !== undefined) {
    const keySet = createRemoteJWKSet(new URL(opts.jwksUri));
    return () => Promise.resolve(keySet);
  }
  let pending: Promise<JWTVerifyGetKey> | undefined;
  return () => {
    pending ??= discoverJwksUri(opts.issuer).then(
      (uri) => createRemoteJWKSet(new URL(uri)),
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}

// An unreachable or broken issuer is an outage (503), not a bad token (401): clients must not
// drop their tokens because the identity provider is down.
function verificationError(error: unknown): Error {
  if (error instanceof UnauthorizedError) return error;
  const outage = error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid;
  if (error instanceof errors.JOSEError && !outage) {
    return new UnauthorizedError('invalid bearer token', { cause: error });
  }
  return new UnavailableError('token issuer unreachable', { cause: error });
}

interface AccessTokenRules {
  tokenTypes: Set<string>;
  scope: string;
  maxLifetimeSeconds: number;
}

/** What jose does not check: the token's type, its permission for this API and its lifetime. */
function checkAccessToken(
  header: JWTHeaderParameters,
  claims: JWTPayload,
  rules: AccessTokenRules,
): Principal {
  if (typeof header.typ !== 'string' || !rules.tokenTypes.has(mediaType(header.typ)))
    throw new UnauthorizedError('the token is not an access token');
  // `iat` is required and checked against the clock by jose (maxTokenAge).
  if (typeof claims.exp !== 'number' || claims.exp - (claims.iat ?? 0) > rules.maxLifetimeSeconds)
    throw new UnauthorizedError(`the token lives longer than ${rules.maxLifetimeSeconds} seconds`);
  const principal = principalFromClaims(claims);
  // An application token (client credentials) has no delegated scope; the app roles granted to the client
  // are its permission for this API.
  if (principal.kind === 'client') {
    if (!Array.isArray(claims.roles) || claims.roles.length === 0)
      throw new UnauthorizedError('the token carries no app role for this API');
  } else if (!principal.scopes.includes(rules.scope)) {
    throw new UnauthorizedError(`the token does not carry the scope ${rules.scope}`);
  }
  return principal;
}

/**
 * Verifies bearer access tokens against the issuer's JWKS and maps their claims to a principal: signature,
 * algorithm, issuer, audience, token type, scope, issue and expiry times within the clock tolerance, and a
 * bounded lifetime. Throws UnauthorizedError for a bad token, UnavailableError when the issuer cannot be
 * reached, and RangeError at creation for a clock tolerance over 5 minutes.
 */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const clockTolerance = opts.clockToleranceSeconds ?? defaultClockToleranceSeconds;
  if (clockTolerance < 0 || clockTolerance > maxClockToleranceSeconds)
    throw new RangeError(`the clock tolerance must be 0 to ${maxClockToleranceSeconds} seconds`);
  const rules: AccessTokenRules = {
    tokenTypes: new Set((opts.tokenTypes ?? defaultTokenTypes).map(mediaType)),
    scope: opts.scope ?? defaultScope,
    maxLifetimeSeconds: opts.maxLifetimeSeconds ?? defaultMaxLifetimeSeconds,
  };
  const keySet = lazyKeySet(opts);
  const verifyOptions = {
    issuer: opts.issuer,
    audience: opts.audience,
    algorithms: opts.algorithms ?? defaultAlgorithms,
    clockTolerance,
    // jose only checks `exp` when present; a token that never expires is not accepted. With `iat` required,
    // maxTokenAge refuses a token issued in the future (beyond the tolerance) or longer ago than it may live.
    requiredClaims: ['exp', 'iat', 'sub'],
    maxTokenAge: rules.maxLifetimeSeconds,
  };
  return async (token) => {
    if (token === '') throw new UnauthorizedError('missing bearer token');
    try {
      const { payload, protectedHeader } = await jwtVerify(token, await keySet(), verifyOptions);
      return checkAccessToken(protectedHeader, payload, rules);
    } catch (error) {
      throw verificationError(error);
    }
  };
}
