import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [mainScript], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function jwksOnceUp(issuer: string): Promise<unknown> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    try {
      const response = await fetch(`${issuer}/jwks`);
      if (response.ok) return await response.json();
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${issuer} did not come up`);
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill('SIGTERM');
  const [code] = await exited;
  return code;
}

describe('dev OIDC provider process', () => {
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'dev-oidc-main-'));
  });

  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('keeps its signing keys across a restart and exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    const env = { OIDC_PORT: String(port), OIDC_STATE_DIR: stateDir };
    const issuer = `http://127.0.0.1:${port}`;

    const first = start(env);
    const keysBefore = await jwksOnceUp(issuer);
    expect(await stop(first)).toBe(0);

    const second = start(env);
    const keysAfter = await jwksOnceUp(issuer);
    expect(await stop(second)).toBe(0);

    expect(keysAfter).toEqual(keysBefore);
    expect(JSON.stringify(keysAfter)).not.toContain('"d"');
  });

  it('refuses to start without a state directory', async () => {
    const child = start({ OIDC_PORT: String(await freePort()), OIDC_STATE_DIR: '' });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(stderr).toContain('OIDC_STATE_DIR: is required');
  });
});
