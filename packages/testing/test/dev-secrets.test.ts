import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from '@jest/globals';

// `npm start` starts the services in parallel, each reading the development keys that scripts/lib.sh makes on
// first use: every caller must get the same, whole keys however many run at once.

const run = promisify(execFile);
const lib = fileURLToPath(new URL('../../../scripts/lib.sh', import.meta.url));
const keyNames = [
  'INTEGRATION_SECRETS_KEY',
  'DEPLOYMENT_SECRETS_KEY',
  'COMMAND_SECRETS_KEY',
  'COMMAND_ID_KEY',
  'SESSION_SECRET',
];
const dirs: string[] = [];

async function stackDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'converge-dev-secrets-'));
  dirs.push(dir);
  return dir;
}

/** Runs `script` with lib.sh sourced, as scripts/dev.sh does, against a stack directory of its own. */
async function withLib(dir: string, script: string): Promise<string> {
  const { stdout } = await run('bash', ['-c', `source "${lib}"; ${script}`], {
    env: { ...process.env, CONVERGE_STACK_DIR: dir },
  });
  return stdout;
}

function keysIn(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z_]+_(KEY|SECRET)=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('the development keys', () => {
  it('are made once, whole, when many starts ask for them at the same moment', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = await stackDir();
      // Four processes with six subshells each: separate starts, and parallel callers inside one script.
      await Promise.all(
        [1, 2, 3, 4].map((process) =>
          withLib(
            dir,
            `for i in 1 2 3 4 5 6; do (ensure_dev_secrets && cat "${dir}/dev-secrets.env" >"${dir}/env.${process}.$i") & done; wait`,
          ),
        ),
      );
      const outputs = (await readdir(dir)).filter((name) => name.startsWith('env.'));
      expect(outputs).toHaveLength(24);
      const stored = keysIn(await readFile(join(dir, 'dev-secrets.env'), 'utf8'));
      expect(Object.keys(stored).sort()).toEqual([...keyNames].sort());
      for (const key of Object.values(stored)) expect(Buffer.from(key, 'base64')).toHaveLength(32);
      for (const output of outputs) {
        expect(keysIn(await readFile(join(dir, output), 'utf8'))).toEqual(stored);
      }
      expect((await readdir(dir)).filter((name) => /^dev-secrets\.env\..{6}$/.test(name))).toEqual([]);
    }
  });

  it('keep a complete key and make a truncated one again', async () => {
    const dir = await stackDir();
    const kept = Buffer.alloc(32, 7).toString('base64');
    await writeFile(
      join(dir, 'dev-secrets.env'),
      `INTEGRATION_SECRETS_KEY=${kept}\nDEPLOYMENT_SECRETS_KEY=AAAA`,
    );
    await withLib(dir, 'ensure_dev_secrets');
    const stored = keysIn(await readFile(join(dir, 'dev-secrets.env'), 'utf8'));
    expect(stored.INTEGRATION_SECRETS_KEY).toBe(kept);
    expect(Buffer.from(stored.DEPLOYMENT_SECRETS_KEY ?? '', 'base64')).toHaveLength(32);
    // Once whole, the file is left as it is.
    const before = await readFile(join(dir, 'dev-secrets.env'), 'utf8');
    await withLib(dir, 'ensure_dev_secrets');
    expect(await readFile(join(dir, 'dev-secrets.env'), 'utf8')).toBe(before);
  });

  it('go to each service as it holds them in production: sessions cannot open sealed command secrets', async () => {
    const dir = await stackDir();
    const keysOf = async (service: string) =>
      Object.keys(keysIn(await withLib(dir, `local_service_env ${service}`))).sort();
    expect(await keysOf('sessions')).toEqual(['COMMAND_ID_KEY']);
    expect(await keysOf('agent-gateway')).toEqual(['COMMAND_ID_KEY', 'COMMAND_SECRETS_KEY']);
    expect(await keysOf('deployments')).toEqual(['COMMAND_SECRETS_KEY', 'DEPLOYMENT_SECRETS_KEY']);
    expect(await keysOf('sync')).toEqual(['INTEGRATION_SECRETS_KEY']);
    expect(await keysOf('identity')).toEqual([]);
  });
});
