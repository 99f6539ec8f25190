import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { findInterpreters } from './interpreters.ts';
import type { OutputPiece } from './output-stream.ts';
import { ScriptRunner, type ScriptRequest, type ScriptRunnerOptions } from './script-runner.ts';
import { noUserLoggedOnMessage, parsePasswdLine, resolveUserContext } from './user-context.ts';

const interpreters = findInterpreters();

function runner(overrides: Partial<ScriptRunnerOptions> = {}): ScriptRunner {
  return new ScriptRunner({
    interpreters,
    resolveUserContext: () => resolveUserContext(() => Promise.resolve([])),
    outputLimits: { chunkBytes: 16 * 1024, flushIntervalMs: 20, maxBytes: 1024 * 1024 },
    killGraceMs: 300,
    tempDir: tmpdir(),
    systemEnvironment: process.env,
    ...overrides,
  });
}

function request(body: string, extra: Partial<ScriptRequest> = {}): ScriptRequest {
  return { language: 'bash', context: 'system', body, parameters: {}, timeoutMs: 20_000, ...extra };
}

async function run(script: ScriptRunner, req: ScriptRequest, signal = new AbortController().signal) {
  const pieces: OutputPiece[] = [];
  const result = await script.run(req, { signal, onOutput: (piece) => pieces.push(piece) });
  const text = (stream: 'stdout' | 'stderr') =>
    Buffer.concat(pieces.filter((p) => p.stream === stream).map((p) => p.data)).toString();
  return { result, pieces, stdout: text('stdout'), stderr: text('stderr') };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

/** Reads pids a script printed, one per line, from a file it wrote. */
function pidsIn(path: string): number[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map(Number);
}

describe('script runner', () => {
  it('runs a bash script and reports its exit code and last non-empty stdout line', async () => {
    const { result, stdout, stderr } = await run(
      runner(),
      request('echo one\necho oops >&2\nprintf "1.2.3\\n\\n"\nexit 3\n'),
    );
    expect(result).toMatchObject({
      outcome: 'completed',
      exitCode: 3,
      finalOutputLine: '1.2.3',
      message: '',
    });
    expect(result.outputTruncated).toBe(false);
    expect(stdout).toBe('one\n1.2.3\n\n');
    expect(stderr).toBe('oops\n');
  });

  it('runs sh scripts too', async () => {
    const { result } = await run(
      runner(),
      request('echo "$0" | grep -q "\\.sh$" && echo sh-ok', { language: 'sh' }),
    );
    expect(result).toMatchObject({ outcome: 'completed', exitCode: 0, finalOutputLine: 'sh-ok' });
  });

  it('streams output while the script runs, numbered in order across both streams', async () => {
    const pieces: OutputPiece[] = [];
    let sawFirstBeforeEnd = false;
    const result = await runner().run(
      request('echo first; sleep 0.4; echo second >&2; sleep 0.2; echo third'),
      {
        signal: new AbortController().signal,
        onOutput: (piece) => {
          pieces.push(piece);
          if (piece.data.toString() === 'first\n') sawFirstBeforeEnd = true;
        },
      },
    );
    expect(sawFirstBeforeEnd).toBe(true);
    expect(pieces.map((p) => [p.seq, p.stream, p.data.toString()])).toEqual([
      [0, 'stdout', 'first\n'],
      [1, 'stderr', 'second\n'],
      [2, 'stdout', 'third\n'],
    ]);
    expect(result.durationMs).toBeGreaterThanOrEqual(550);
  });

  it('cuts large output into chunks of at most 16 KiB', async () => {
    const { pieces, stdout } = await run(runner(), request('head -c 100000 /dev/zero | tr "\\0" x'));
    expect(stdout.length).toBe(100_000);
    expect(Math.max(...pieces.map((p) => p.data.length))).toBeLessThanOrEqual(16 * 1024);
    expect(pieces.map((p) => p.seq)).toEqual(pieces.map((_, i) => i));
  });

  it('caps the output and says it was truncated, while the script still runs to its end', async () => {
    const script = runner({ outputLimits: { chunkBytes: 1024, flushIntervalMs: 20, maxBytes: 5000 } });
    const { result, stdout } = await run(
      script,
      request('head -c 20000 /dev/zero | tr "\\0" y; echo; echo done'),
    );
    expect(stdout.length).toBe(5000);
    expect(result).toMatchObject({ outcome: 'completed', outputTruncated: true, finalOutputLine: 'done' });
  });

  it('passes parameters as environment variables, never into the script text', async () => {
    const { result } = await run(
      runner(),
      request('echo "$CONVERGE_PARAM_GREETING"', { parameters: { greeting: '$(echo injected); `id`' } }),
    );
    expect(result.finalOutputLine).toBe('$(echo injected); `id`');
  });

  it('kills the whole process tree when the script times out', async () => {
    const pidFile = `${tmpdir()}/converge-timeout-${process.pid}-${Date.now()}`;
    const { result } = await run(
      runner(),
      request(
        `sleep 300 & echo $! >> ${pidFile}\n(sleep 300 & echo $! >> ${pidFile}; wait) &\necho $$ >> ${pidFile}\nwait`,
        { timeoutMs: 700 },
      ),
    );
    expect(result.outcome).toBe('timed-out');
    expect(result.message).toMatch(/timed out after 700 ms/);
    expect(result.durationMs).toBeLessThan(5000);
    const pids = pidsIn(pidFile);
    expect(pids).toHaveLength(3);
    expect(await eventually(() => pids.every((pid) => !alive(pid)))).toBe(true);
  });

  it('kills a script that ignores SIGTERM once the grace period is over', async () => {
    const { result } = await run(
      runner(),
      request('trap "" TERM\necho ready\nwhile true; do sleep 0.05; done', {
        timeoutMs: 300,
      }),
    );
    expect(result.outcome).toBe('timed-out');
    expect(result.durationMs).toBeLessThan(3000);
  });

  it('stops a cancelled script and its children', async () => {
    const pidFile = `${tmpdir()}/converge-cancel-${process.pid}-${Date.now()}`;
    const controller = new AbortController();
    const pending = run(
      runner(),
      request(`sleep 300 & echo $! >> ${pidFile}\necho started\nwait`),
      controller.signal,
    );
    await eventually(() => {
      try {
        return pidsIn(pidFile).length === 1;
      } catch {
        return false;
      }
    });
    controller.abort('cancelled by the session');
    const { result, stdout } = await pending;
    expect(result).toMatchObject({ outcome: 'cancelled', message: 'cancelled by the session' });
    expect(stdout).toBe('started\n');
    const [sleeper] = pidsIn(pidFile);
    expect(await eventually(() => !alive(sleeper!))).toBe(true);
  });

  it('does not leave background processes behind when the script itself ends', async () => {
    const pidFile = `${tmpdir()}/converge-orphan-${process.pid}-${Date.now()}`;
    const { result } = await run(runner(), request(`sleep 300 & echo $! >> ${pidFile}\necho finished`));
    expect(result).toMatchObject({ outcome: 'completed', finalOutputLine: 'finished' });
    const [sleeper] = pidsIn(pidFile);
    expect(await eventually(() => !alive(sleeper!))).toBe(true);
  });

  it('reports a language this computer lacks instead of trying to run it', async () => {
    const { result } = await run(runner(), request('Get-Date', { language: 'cmd' }));
    expect(result.outcome).toBe('language-unavailable');
    expect(result.message).toMatch(/no cmd interpreter/);
    const unknown = await run(runner(), request('x', { language: undefined }));
    expect(unknown.result.outcome).toBe('language-unavailable');
  });

  it('says plainly that no user is logged on for a User-context script', async () => {
    const script = runner({
      resolveUserContext: () => resolveUserContext(() => Promise.resolve([]), undefined, 'linux', 0),
    });
    const { result } = await run(script, request('id', { context: 'user' }));
    expect(result).toMatchObject({ outcome: 'failed-to-start', message: noUserLoggedOnMessage });
  });

  it('says that User context needs a root agent', async () => {
    const resolution = await resolveUserContext(
      () => Promise.resolve([{ user: 'alice', line: 'tty2', from: ':0' }]),
      undefined,
      'linux',
      1000,
    );
    expect(resolution).toEqual({
      ok: false,
      message: expect.stringMatching(/needs the agent to run as root/),
    });
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('runs a User-context script as the logged-on user, with their uid and home', async () => {
    const nobody = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map(parsePasswdLine)
      .find((account) => account?.name === 'nobody');
    expect(nobody).toBeDefined();
    const script = runner({
      resolveUserContext: () =>
        resolveUserContext(
          () => Promise.resolve([{ user: 'nobody', line: 'tty1', from: '' }]),
          () => Promise.resolve(nobody),
        ),
    });
    const { result, stdout } = await run(
      script,
      request('echo "$(id -u) $(id -g) $HOME $USER"; id -G', { context: 'user' }),
    );
    expect(result.outcome).toBe('completed');
    expect(stdout.split('\n')[0]).toBe(`${nobody!.uid} ${nobody!.gid} ${nobody!.home} nobody`);
    // No supplementary group of root's survives the switch.
    expect(result.finalOutputLine).toBe(String(nobody!.gid));
  });

  it('reports an interpreter that cannot be started', async () => {
    const broken = new Map([
      ['bash' as const, { executable: '/nonexistent/bash', extension: '.sh', args: (p: string) => [p] }],
    ]);
    const { result } = await run(runner({ interpreters: broken }), request('echo hi'));
    expect(result.outcome).toBe('failed-to-start');
    expect(result.message).toMatch(/ENOENT/);
  });
});
