import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadOrCreateSigningKeys } from './signing-keys.ts';

describe('loadOrCreateSigningKeys', () => {
  let stateDir: string;

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'dev-oidc-'));
  });

  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('creates one private RS256 signing key readable only by the owner, then keeps it', async () => {
    const first = await loadOrCreateSigningKeys(join(stateDir, 'nested'));
    expect(first.keys).toHaveLength(1);
    expect(first.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', d: expect.any(String) });
    expect((await stat(join(stateDir, 'nested', 'jwks.json'))).mode & 0o777).toBe(0o600);

    await expect(loadOrCreateSigningKeys(join(stateDir, 'nested'))).resolves.toEqual(first);
  });

  it('refuses a state file that holds no keys instead of replacing it', async () => {
    await writeFile(join(stateDir, 'jwks.json'), JSON.stringify({ keys: [] }));
    await expect(loadOrCreateSigningKeys(stateDir)).rejects.toThrow('holds no JWKS');
  });
});
