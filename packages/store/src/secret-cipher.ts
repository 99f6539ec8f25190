import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Seals secrets (integration credentials, secret task parameters) with AES-256-GCM before they are stored:
 * a fresh 96-bit nonce per seal, as GCM requires. The context is bound as additional data and names where the
 * value belongs (`deployment:<id>:<parameter>`, `integration:<id>`), so a sealed value copied into another
 * document or field fails to open instead of leaking there. Only full 16-byte tags open: Node accepts a
 * truncated tag (down to 4 bytes) unless the length is pinned, and a short tag is a cheap forgery.
 */
export interface SecretCipher {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

const scheme = 'v1';
const algorithm = 'aes-256-gcm';
const ivLength = 12;
const tagLength = 16;

export function createSecretCipher(key: Buffer): SecretCipher {
  if (key.length !== 32) throw new RangeError('the secrets key must be 32 bytes');
  return {
    seal(plaintext, context) {
      const iv = randomBytes(ivLength);
      const cipher = createCipheriv(algorithm, key, iv, { authTagLength: tagLength });
      cipher.setAAD(Buffer.from(context));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64'));
      return [scheme, ...parts].join(':');
    },
    open(sealed, context) {
      const [version, iv64, tag64, data] = sealed.split(':');
      if (version !== scheme || !iv64 || !tag64 || data === undefined) throw new Error('not a sealed secret');
      const iv = Buffer.from(iv64, 'base64');
      const tag = Buffer.from(tag64, 'base64');
      if (iv.length !== ivLength || tag.length !== tagLength) throw new Error('not a sealed secret');
      const decipher = createDecipheriv(algorithm, key, iv, { authTagLength: tagLength });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}
