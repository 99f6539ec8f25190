import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface LoggedOnSession {
  user: string;
  /** The terminal: `tty2`, `console` (macOS), `pts/0` (a remote shell). */
  line: string;
  /** Where the session comes from: an X display such as `:0`, a remote host, or empty for the console. */
  from: string;
}

/** Parses `who` output (`alice  tty2  2026-01-05 08:12 (:0)`); the format is the same on Linux and macOS. */
export function parseWho(output: string): LoggedOnSession[] {
  const sessions: LoggedOnSession[] = [];
  for (const text of output.split('\n')) {
    const [user, line] = text.trim().split(/\s+/);
    if (!user || !line) continue;
    const from = /\(([^)]*)\)\s*$/.exec(text)?.[1] ?? '';
    sessions.push({ user, line, from });
  }
  return sessions;
}

/** The logged-on sessions from utmp, via `who`; none when `who` is missing (minimal containers). */
export async function listLoggedOnSessions(): Promise<LoggedOnSession[]> {
  try {
    const { stdout } = await execFileAsync('who', [], { timeout: 5000 });
    return parseWho(stdout);
  } catch {
    return [];
  }
}

/**
 * The person at the computer, for User context: a local session (console, a `tty`, an X display) before a
 * remote shell, and the first one logged on among equals.
 */
export function interactiveUser(sessions: readonly LoggedOnSession[]): string | undefined {
  const local = sessions.find(
    (s) => s.line === 'console' || s.line.startsWith('tty') || s.from === '' || s.from.startsWith(':'),
  );
  return (local ?? sessions[0])?.user;
}

const upnPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The UPNs among the logged-on user names. On Linux and macOS only directory-joined machines (SSSD, winbind
 * or realmd with fully qualified names) show users as `name@domain`; a plain local name such as `alice` is no
 * UPN and is left out rather than guessed into one. So a name counts when it is `local@domain.tld`: one `@`,
 * a dot in the domain, no spaces. Each UPN appears once, in first-seen order.
 */
export function upnsOf(userNames: readonly string[]): string[] {
  return [...new Set(userNames.filter((name) => upnPattern.test(name)))];
}
