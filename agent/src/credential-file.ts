import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from '@converge/config';

/** What enrollment gives the agent, kept in `<state dir>/credential.json` (docs/agent-connection.md). */
export interface Credential {
  /** The gateway's agent HTTP endpoint, e.g. https://agents.example.com (enroll and WebSocket). */
  server: string;
  /** host:port of the gateway's gRPC listener, when the agent was enrolled with one. */
  grpcAddress: string | null;
  agentId: string;
  credentialSecret: string;
}

const credentialSchema = z.object({
  server: z.url(),
  grpcAddress: z.string().min(1).nullable(),
  agentId: z.string().min(1),
  credentialSecret: z.string().min(1),
});

export class CredentialFileError extends Error {}

export function credentialPath(stateDir: string): string {
  return join(stateDir, 'credential.json');
}

export async function credentialExists(stateDir: string): Promise<boolean> {
  try {
    await stat(credentialPath(stateDir));
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the credential readable by the agent's user alone (0600, in a 0700 directory). The file is written
 * under a temporary name and then moved into place, so a crash never leaves half a credential; without
 * `force` the move is a hard link, which fails atomically when a credential is already there.
 */
export async function writeCredential(
  stateDir: string,
  credential: Credential,
  options: { force: boolean },
): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const target = credentialPath(stateDir);
  const temporary = `${target}.${process.pid}.tmp`;
  const file = await open(temporary, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(credential, null, 2)}\n`);
    // The mode given to open is filtered through the umask; make sure it is exactly 0600.
    await file.chmod(0o600);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    if (options.force) {
      await rename(temporary, target);
    } else {
      await link(temporary, target);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CredentialFileError(`${target} already exists; pass --force to replace it`);
    }
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** Reads the credential, refusing one that others could have read (as ssh does with a private key). */
export async function readCredential(stateDir: string): Promise<Credential> {
  const path = credentialPath(stateDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CredentialFileError(`no credential at ${path}; run "converge-agent enroll" first`);
    }
    throw error;
  }
  if (process.platform !== 'win32') {
    const { mode } = await stat(path);
    if ((mode & 0o077) !== 0) {
      throw new CredentialFileError(
        `${path} is readable by others (mode ${(mode & 0o777).toString(8)}); run "chmod 600 ${path}"`,
      );
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CredentialFileError(`${path} is not valid JSON`);
  }
  const parsed = credentialSchema.safeParse(json);
  if (!parsed.success) throw new CredentialFileError(`${path} is not a credential: ${parsed.error.message}`);
  return parsed.data;
}
