import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createSecretBox } from './secret-box.ts';

const box = createSecretBox(randomBytes(32));
const secret = 'Xq8~client-secret-value';

describe('secret box', () => {
  it('stores no trace of the plaintext and opens it again with the same key and context', () => {
    const sealed = box.seal(secret, 'integration-1');
    expect(JSON.stringify(sealed)).not.toContain(secret);
    expect(JSON.stringify(sealed)).not.toContain(Buffer.from(secret).toString('base64'));
    expect(box.open(sealed, 'integration-1')).toBe(secret);
  });

  it('never encrypts the same secret to the same ciphertext', () => {
    expect(box.seal(secret, 'i').ciphertext).not.toBe(box.seal(secret, 'i').ciphertext);
  });

  it('refuses a ciphertext moved to another integration, tampered with, or opened with another key', () => {
    const sealed = box.seal(secret, 'integration-1');
    expect(() => box.open(sealed, 'integration-2')).toThrow();
    const flipped = Buffer.from(sealed.ciphertext, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => box.open({ ...sealed, ciphertext: flipped.toString('base64') }, 'integration-1')).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'integration-1')).toThrow();
  });
});
