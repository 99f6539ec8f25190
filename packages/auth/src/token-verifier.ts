import { UnauthorizedError, UnavailableError } from '@converge/errors';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { principalFromClaims } from './principal-claims.ts';
import type { Principal } from './roles.ts';

export type TokenVerifier = (token: string) => Promise<Principal>;

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** Default: the `jwks_uri` of the issuer's discovery document. */
  jwksUri?: string;
  algorithms?: string[];
  clockToleranceSeconds?: number;
}

const defaultAlgorithms = ['RS256', 'ES256', 'PS256'];

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

/**
 * Verifies bearer tokens against the issuer's JWKS and maps their claims to a principal.
 * Throws UnauthorizedError for a bad token, UnavailableError when the issuer cannot be reached.
 */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const keySet = lazyKeySet(opts);
  const verifyOptions = {
    issuer: opts.issuer,
    audience: opts.audience,
    algorithms: opts.algorithms ?? defaultAlgorithms,
    clockTolerance: opts.clockToleranceSeconds ?? 0,
    // jose only checks `exp` when present; a token that never expires is not accepted.
    requiredClaims: ['exp', 'sub'],
  };
  return async (token) => {
    if (token === '') throw new UnauthorizedError('missing bearer token');
    try {
      const { payload } = await jwtVerify(token, await keySet(), verifyOptions);
      return principalFromClaims(payload);
    } catch (error) {
      throw verificationError(error);
    }
  };
}
