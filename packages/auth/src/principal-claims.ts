import { UnauthorizedError } from '@converge/errors';
import type { JWTPayload } from 'jose';
import { isRole } from './roles.ts';
import type { Principal } from './roles.ts';

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function spaceSeparated(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter((scope) => scope !== '') : [];
}

// Entra ID marks app-only tokens with `idtyp: app`; RFC 9068 gives client-credentials tokens the
// client id as subject.
function principalKind(claims: JWTPayload): Principal['kind'] {
  if (claims.idtyp === 'app') return 'client';
  if (claims.idtyp === 'user') return 'user';
  return claims.sub !== undefined && claims.sub === claims.client_id ? 'client' : 'user';
}

/** Maps a verified token's claims to the principal; roles the product does not know are ignored. */
export function principalFromClaims(claims: JWTPayload): Principal {
  const subject = optionalString(claims.sub);
  if (subject === undefined) throw new UnauthorizedError('token has no subject');
  const issuer = optionalString(claims.iss);
  if (issuer === undefined) throw new UnauthorizedError('token has no issuer');
  const name = optionalString(claims.name);
  const email = optionalString(claims.email);
  return {
    issuer,
    subject,
    kind: principalKind(claims),
    ...(name === undefined ? {} : { name }),
    ...(email === undefined ? {} : { email }),
    roles: Array.isArray(claims.roles) ? [...new Set(claims.roles.filter(isRole))] : [],
    tenantId: optionalString(claims.tid),
    // `scope` is RFC 9068's claim, `scp` Entra ID's.
    scopes: [...spaceSeparated(claims.scope), ...spaceSeparated(claims.scp)],
  };
}
