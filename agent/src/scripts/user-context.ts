import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { interactiveUser, type LoggedOnSession } from '../facts/logged-on-users.ts';

const execFileAsync = promisify(execFile);

/** The account a User-context script runs as. */
export interface UserAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export type UserContextResolution = { ok: true; account: UserAccount } | { ok: false; message: string };

export const noUserLoggedOnMessage = 'no user is logged on';

/**
 * Who a User-context script runs as: the interactively logged-on user. Only a root agent can become another
 * user (spawning with that user's uid and gid); Windows would need CreateProcessAsUser from a native helper,
 * which this agent does not have.
 */
export async function resolveUserContext(
  listSessions: () => Promise<LoggedOnSession[]>,
  lookupAccount: (name: string) => Promise<UserAccount | undefined> = lookupUserAccount,
  platform: NodeJS.Platform = process.platform,
  agentUid: number | undefined = process.getuid?.(),
): Promise<UserContextResolution> {
  if (platform === 'win32') {
    return { ok: false, message: 'User context is not supported by the agent on Windows' };
  }
  if (agentUid !== 0) {
    return {
      ok: false,
      message: `User context needs the agent to run as root; it runs as uid ${agentUid ?? 'unknown'}`,
    };
  }
  const name = interactiveUser(await listSessions());
  if (name === undefined) return { ok: false, message: noUserLoggedOnMessage };
  const account = await lookupAccount(name);
  if (account === undefined) {
    return { ok: false, message: `the logged-on user ${name} has no account entry (getent passwd)` };
  }
  return { ok: true, account };
}

/** One `/etc/passwd` line: `name:password:uid:gid:gecos:home:shell`. */
export function parsePasswdLine(line: string): UserAccount | undefined {
  const [name, , uid, gid, , home, shell] = line.trim().split(':');
  if (!name || !uid || !gid || home === undefined || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) {
    return undefined;
  }
  return { name, uid: Number(uid), gid: Number(gid), home, shell: shell ?? '/bin/sh' };
}

/**
 * The account entry through NSS (`getent passwd`, which also knows directory users from SSSD or winbind),
 * falling back to `/etc/passwd` where getent does not exist (macOS, some minimal systems).
 */
export async function lookupUserAccount(name: string): Promise<UserAccount | undefined> {
  if (process.platform === 'darwin') return lookupMacAccount(name);
  try {
    const { stdout } = await execFileAsync('getent', ['passwd', name], { timeout: 5000 });
    const account = parsePasswdLine(stdout);
    if (account) return account;
  } catch {
    // getent missing, or the name unknown to NSS: try the file.
  }
  try {
    const passwd = await readFile('/etc/passwd', 'utf8');
    return passwd
      .split('\n')
      .map(parsePasswdLine)
      .find((account) => account?.name === name);
  } catch {
    return undefined;
  }
}

/** macOS keeps accounts in Open Directory, not /etc/passwd: `id` for the ids, `dscl` for the home. */
async function lookupMacAccount(name: string): Promise<UserAccount | undefined> {
  try {
    const [uid, gid, home] = await Promise.all([
      execFileAsync('id', ['-u', name], { timeout: 5000 }),
      execFileAsync('id', ['-g', name], { timeout: 5000 }),
      execFileAsync('dscl', ['.', '-read', `/Users/${name}`, 'NFSHomeDirectory'], { timeout: 5000 }),
    ]);
    const homeDir = /NFSHomeDirectory:\s*(\S.*)$/m.exec(home.stdout)?.[1]?.trim() ?? `/Users/${name}`;
    return {
      name,
      uid: Number(uid.stdout.trim()),
      gid: Number(gid.stdout.trim()),
      home: homeDir,
      shell: '/bin/zsh',
    };
  } catch {
    return undefined;
  }
}
