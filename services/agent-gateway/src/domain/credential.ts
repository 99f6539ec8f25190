import { createHash } from 'node:crypto';

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
  return { id, secret };
}

/** The agent credential from an `authorization: Bearer <agent id>.<secret>` header or metadata value. */
export function bearerCredential(header: string | undefined): ParsedSecret | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1] === undefined ? undefined : parseSecretPair(match[1]);
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
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
