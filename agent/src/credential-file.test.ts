import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialFileError, credentialPath, readCredential, writeCredential } from './credential-file.ts';

const credential = {
  server: 'https://agents.example.com',
  grpcAddress: 'agents.example.com:8124',
  agentId: '6f1c3c1e-5a77-4d55-9a0b-2b9a4e0d9d10',
  credentialSecret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA',
};

function stateDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'converge-agent-state-')), 'state');
}

describe('credential file', () => {
  it('is written readable by the agent user only, in a private directory', async () => {
    const dir = stateDir();
    const previous = process.umask(0);
    try {
      await writeCredential(dir, credential, { force: false });
    } finally {
      process.umask(previous);
    }
    expect(statSync(credentialPath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(await readCredential(dir)).toEqual(credential);
  });

  it('is not replaced without force, and is with it', async () => {
    const dir = stateDir();
    await writeCredential(dir, credential, { force: false });
    await expect(writeCredential(dir, { ...credential, agentId: 'other' }, { force: false })).rejects.toThrow(
      /already exists; pass --force/,
    );
    expect(JSON.parse(readFileSync(credentialPath(dir), 'utf8'))).toMatchObject({
      agentId: credential.agentId,
    });
    await writeCredential(dir, { ...credential, agentId: 'other' }, { force: true });
    expect((await readCredential(dir)).agentId).toBe('other');
    expect(statSync(credentialPath(dir)).mode & 0o777).toBe(0o600);
  });

  it('is refused when others could read it', async () => {
    const dir = stateDir();
    await writeCredential(dir, credential, { force: false });
    chmodSync(credentialPath(dir), 0o644);
    await expect(readCredential(dir)).rejects.toThrow(/readable by others/);
  });

  it('says to enroll when there is none', async () => {
    await expect(readCredential(stateDir())).rejects.toThrow(CredentialFileError);
    await expect(readCredential(stateDir())).rejects.toThrow(/enroll/);
  });
});
