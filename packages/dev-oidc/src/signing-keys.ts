import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK, JWKS } from 'oidc-provider';

function createSigningKey(): JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function isJwks(value: unknown): value is JWKS {
  return typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys);
}

/**
 * Keeps the signing keys across restarts, so tokens issued before a restart still verify
 * and services caching the JWKS keep working.
 */
export async function loadOrCreateSigningKeys(stateDir: string): Promise<JWKS> {
  const file = join(stateDir, 'jwks.json');
  try {
    const stored: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (!isJwks(stored) || stored.keys.length === 0) throw new Error(`${file} holds no JWKS`);
    return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const jwks: JWKS = { keys: [createSigningKey()] };
  await mkdir(stateDir, { recursive: true });
  await writeFile(file, JSON.stringify(jwks), { mode: 0o600 });
  return jwks;
}
