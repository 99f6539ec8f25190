import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Install tokens and agent credentials are both `<id>.<secret>`. The secret has 256 random bits, so the
 * gateway keeps a SHA-256 of it: a slow password hash would add CPU per connection and no safety.
 */
export interface ParsedSecret {
  id: string;
  secret: string;
}

const idPattern = /^[A-Za-z0-9-]{1,128}$/;
const secretPattern = /^[A-Za-z0-9_-]{16,128}$/;

export function parseSecretPair(text: string): ParsedSecret | undefined {
  const dot = text.indexOf('.');
  if (dot < 0) return undefined;
  const id = text.slice(0, dot);
  const secret = text.slice(dot + 1);
  if (!idPattern.test(id) || !secretPattern.test(secret)) return undefined;
  return { id: detached(id), secret };
}

/**
 * A copy of an id cut from a longer string. V8 keeps the whole string a slice was cut from alive as long as the
 * slice lives; an agent id is kept for as long as its connection, and the string it was cut from holds the
 * secret. (Ids are ASCII, checked above.)
 */
function detached(id: string): string {
  return Buffer.from(id, 'latin1').toString('latin1');
}

/** The agent credential from an `authorization: Bearer <agent id>.<secret>` header or metadata value. */
export function bearerCredential(header: string | undefined): ParsedSecret | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1] === undefined ? undefined : parseSecretPair(match[1]);
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares a stored and a presented secret hash in constant time, so the time taken tells nothing. */
export function sameHash(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * What a replica needs to verify an agent's connection, as the credential cache holds it (in process and in
 * Redis). `epochFloor` is the last epoch the store issued, from before epochs moved to Redis: the agent's
 * Redis epochs continue above it. A revoked credential is remembered as such, never forgotten.
 */
export type CredentialRecord =
  { revoked: false; tenantId: string; secretHash: string; epochFloor: number } | { revoked: true };

export const revokedCredential: CredentialRecord = { revoked: true };
const revokedText = 'revoked';

/** `<epoch floor>|<secret hash>|<tenant id>`: the tenant id last, because only it may contain `|`. */
export function encodeCredentialRecord(record: CredentialRecord): string {
  if (record.revoked) return revokedText;
  return `${String(record.epochFloor)}|${record.secretHash}|${record.tenantId}`;
}

/** Undefined for a missing or unreadable entry, which the cache then reads from the store again. */
export function decodeCredentialRecord(text: string | null | undefined): CredentialRecord | undefined {
  if (text === null || text === undefined) return undefined;
  if (text === revokedText) return revokedCredential;
  const first = text.indexOf('|');
  const second = text.indexOf('|', first + 1);
  if (first < 0 || second < 0) return undefined;
  const epochFloor = Number(text.slice(0, first));
  const secretHash = text.slice(first + 1, second);
  const tenantId = text.slice(second + 1);
  if (!Number.isSafeInteger(epochFloor) || epochFloor < 0 || secretHash === '' || tenantId === '') {
    return undefined;
  }
  return { revoked: false, tenantId, secretHash, epochFloor };
}

/** The credential's tenant when the presented secret hash matches a credential that is not revoked. */
export function verifiedTenant(
  record: CredentialRecord | undefined,
  presentedHash: string,
): string | undefined {
  if (record === undefined || record.revoked) return undefined;
  return sameHash(record.secretHash, presentedHash) ? record.tenantId : undefined;
}

export interface InstallTokenState {
  expiresAt: Date | null;
  maxUses: number | null;
  uses: number;
  revokedAt: Date | null;
}

/** Why an install token cannot enroll an agent now, or undefined when it can. */
export function installTokenRefusal(token: InstallTokenState, now: Date): string | undefined {
  if (token.revokedAt !== null) return 'revoked';
  if (token.expiresAt !== null && token.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (token.maxUses !== null && token.uses >= token.maxUses) return 'used up';
  return undefined;
}
