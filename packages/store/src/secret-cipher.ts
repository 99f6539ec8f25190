import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Seals secrets (integration credentials, secret task parameters) with AES-256-GCM before they are stored:
 * a fresh 96-bit nonce per seal, as GCM requires. The context is bound as additional data and names where the
 * value belongs (`deployment:<id>:<parameter>`, `integration:<id>`), so a sealed value copied into another
 * document or field fails to open instead of leaking there.
 */
export interface SecretCipher {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

const scheme = 'v1';

export function createSecretCipher(key: Buffer): SecretCipher {
  if (key.length !== 32) throw new RangeError('the secrets key must be 32 bytes');
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64'));
      return [scheme, ...parts].join(':');
    },
    open(sealed, context) {
      const [version, iv, tag, data] = sealed.split(':');
      if (version !== scheme || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}
