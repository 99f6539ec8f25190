import { spawn } from 'node:child_process';

/**
 * Kills a script and everything it started. On POSIX each script leads its own process group (it is spawned
 * detached), so signalling the negative pid reaches its children and grandchildren too; a process that left
 * the group on purpose (setsid, a service manager) is out of reach, as it meant to be. Windows has no process
 * groups: `taskkill /T` walks the tree instead.
 */
export function killProcessTree(pid: number, signal: 'SIGTERM' | 'SIGKILL'): void {
  if (process.platform === 'win32') {
    const args = ['/PID', String(pid), '/T', ...(signal === 'SIGKILL' ? ['/F'] : [])];
    spawn('taskkill', args, { stdio: 'ignore', windowsHide: true }).on('error', () => undefined);
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // ESRCH: the whole group is gone already, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
