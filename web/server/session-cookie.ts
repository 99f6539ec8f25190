import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Who is signed in to the dashboard, kept in the browser only as a sealed, http-only cookie. */
export interface DashboardSession {
  accessToken: string;
  refreshToken?: string;
  /** When the access token expires, in seconds since the epoch. */
  expiresAt: number;
  user: DashboardUser;
}

export interface DashboardUser {
  sub: string;
  name: string;
  email?: string;
  roles: string[];
  tenantId?: string;
}

export const sessionCookieName = 'converge_session';

const version = 'v1';
const ivBytes = 12;
const tagBytes = 16;

/**
 * Seals a value into a cookie-safe string: AES-256-GCM over the deflated JSON, so the browser can neither read
 * nor change it (an access token is compressible base64; compression keeps the cookie under 4 KB). A string
 * that was not sealed with this key, or was changed, unseals to undefined.
 */
export class CookieSealer {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the session key must be 32 bytes');
    this.key = key;
  }

  seal(value: unknown): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(deflateRawSync(JSON.stringify(value))), cipher.final()]);
    return `${version}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
  }

  unseal(text: string | undefined): unknown {
    if (text?.startsWith(`${version}.`) !== true) return undefined;
    try {
      const bytes = Buffer.from(text.slice(version.length + 1), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, ivBytes));
      decipher.setAuthTag(bytes.subarray(ivBytes, ivBytes + tagBytes));
      const plain = Buffer.concat([decipher.update(bytes.subarray(ivBytes + tagBytes)), decipher.final()]);
      return JSON.parse(inflateRawSync(plain).toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }
}

function isDashboardSession(value: unknown): value is DashboardSession {
  const session = value as Partial<DashboardSession> | undefined;
  return (
    typeof session?.accessToken === 'string' &&
    typeof session.expiresAt === 'number' &&
    typeof session.user?.sub === 'string'
  );
}

/** The dashboard session in a sealed cookie value, if it is one. */
export function unsealSession(sealer: CookieSealer, text: string | undefined): DashboardSession | undefined {
  const value = sealer.unseal(text);
  return isDashboardSession(value) ? value : undefined;
}

/** One cookie's value from a `Cookie` request header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}
