import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createSecretCipher } from './secret-cipher.ts';

describe('secret cipher', () => {
  const cipher = createSecretCipher(randomBytes(32));

  it('opens what it sealed, and the sealed form does not contain the secret', () => {
    const sealed = cipher.seal('hunter2-api-key', 'deployment:d1:apiKey');
    expect(sealed).not.toContain('hunter2');
    expect(cipher.open(sealed, 'deployment:d1:apiKey')).toBe('hunter2-api-key');
  });

  it('seals the same secret differently each time', () => {
    expect(cipher.seal('same', 'c')).not.toBe(cipher.seal('same', 'c'));
  });

  it('refuses a sealed value moved to another document or parameter, or opened with another key', () => {
    const sealed = cipher.seal('hunter2', 'deployment:d1:apiKey');
    expect(() => cipher.open(sealed, 'deployment:d2:apiKey')).toThrow();
    const [version, iv, tag, data = ''] = sealed.split(':');
    const flipped = Buffer.from(data, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const tampered = [version, iv, tag, flipped.toString('base64')].join(':');
    expect(() => cipher.open(tampered, 'deployment:d1:apiKey')).toThrow();
    expect(() => createSecretCipher(randomBytes(32)).open(sealed, 'deployment:d1:apiKey')).toThrow();
  });

  it('refuses a sealed value whose authentication tag was truncated or padded', () => {
    const sealed = cipher.seal('hunter2', 'deployment:d1:apiKey');
    const [version, iv, tag = '', data] = sealed.split(':');
    const fullTag = Buffer.from(tag, 'base64');
    expect(fullTag).toHaveLength(16);
    // A 4-byte prefix of the right tag is a 2^-32 forgery; Node accepts it unless the length is pinned.
    for (const length of [4, 8, 12, 15]) {
      const truncated = [version, iv, fullTag.subarray(0, length).toString('base64'), data].join(':');
      expect(() => cipher.open(truncated, 'deployment:d1:apiKey')).toThrow('not a sealed secret');
    }
    const padded = [version, iv, Buffer.concat([fullTag, Buffer.alloc(1)]).toString('base64'), data].join(
      ':',
    );
    expect(() => cipher.open(padded, 'deployment:d1:apiKey')).toThrow('not a sealed secret');
  });
});
