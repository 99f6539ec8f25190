// Resident memory of a bench server process, read the same way for the gateway and the floor: a full garbage
// collection through the process's inspector (so garbage from the connect storm does not count as connection
// cost), a moment for the allocator to settle, then VmRSS from /proc. And the CPU time of every process of a
// run, to show where a saturated machine's time went.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';

/** A free loopback port for a child's `--inspect=127.0.0.1:<port>`. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat, in the kernel's clock ticks
 * (USER_HZ, 100 per second on Linux); undefined when the process is gone.
 */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine has been busy so far (all cores, every process), from /proc/stat. */
export async function machineBusySeconds(): Promise<number> {
  const stat = await readFile('/proc/stat', 'utf8');
  const [, ...ticks] = (stat.split('\n', 1)[0] ?? '').trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal …: everything but idle and iowait was busy.
  const busy = ticks.reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
  return busy / 100;
}

export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib) * 1024;
}

/** Asks a process started with `--inspect=127.0.0.1:<inspectorPort>` for a full garbage collection. */
export async function collectGarbage(inspectorPort: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${inspectorPort}/json/list`);
  const [target] = (await response.json()) as { webSocketDebuggerUrl: string }[];
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  try {
    // Twice: objects with finalizers (sockets' handles) are freed by the second pass.
    for (const id of [1, 2]) {
      const answered = new Promise<void>((resolve) => {
        const onMessage = (data: Buffer) => {
          if ((JSON.parse(data.toString('utf8')) as { id?: number }).id !== id) return;
          socket.off('message', onMessage);
          resolve();
        };
        socket.on('message', onMessage);
      });
      socket.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
      await answered;
    }
  } finally {
    socket.close();
  }
}

/** RSS after a full GC, once two readings a second apart agree within 1% (or after ten tries). */
export async function settledResidentBytes(pid: number, inspectorPort: number): Promise<number> {
  await collectGarbage(inspectorPort);
  let last = await residentBytes(pid);
  for (let attempt = 0; attempt < 10; attempt++) {
    await delay(1_000);
    const now = await residentBytes(pid);
    if (Math.abs(now - last) <= last * 0.01) return now;
    last = now;
  }
  return last;
}
