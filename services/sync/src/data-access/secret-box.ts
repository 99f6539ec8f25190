import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A secret as stored: AES-256-GCM ciphertext with its nonce and authentication tag, all base64. */
export interface SealedSecret {
  iv: string;
  tag: string;
  ciphertext: string;
}

export interface SecretBox {
  /** `context` (the owning document's id) is bound as associated data: a sealed secret moved to another document fails to open. */
  seal(plaintext: string, context: string): SealedSecret;
  open(sealed: SealedSecret, context: string): string;
}

/** Encrypts integration credentials at rest with the 32-byte key from `INTEGRATION_SECRETS_KEY`. */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new RangeError('AES-256-GCM needs a 32-byte key');
  return {
    seal(plaintext, context) {
      // A fresh 96-bit nonce per encryption, as GCM requires; never reused with the same key.
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return {
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        ciphertext: ciphertext.toString('base64'),
      };
    },
    open(sealed, context) {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([
        decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}
