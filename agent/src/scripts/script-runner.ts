import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Interpreter, ScriptLanguageName } from './interpreters.ts';
import { OutputCollector, type OutputLimits, type OutputPiece } from './output-stream.ts';
import { killProcessTree } from './process-tree.ts';
import { ParameterNameError, parameterVariables } from './script-environment.ts';
import type { UserAccount, UserContextResolution } from './user-context.ts';

export type ExecutionContextName = 'system' | 'user';

export interface ScriptRequest {
  /** Undefined when the command named a language this agent does not know. */
  language: ScriptLanguageName | undefined;
  context: ExecutionContextName;
  body: string;
  parameters: Readonly<Record<string, string>>;
  timeoutMs: number;
}

export type ScriptOutcome =
  'completed' | 'timed-out' | 'cancelled' | 'failed-to-start' | 'language-unavailable';

export interface ScriptResult {
  outcome: ScriptOutcome;
  /** The exit code; 128 + signal number when a signal the agent did not send ended the script. */
  exitCode: number;
  finalOutputLine: string;
  durationMs: number;
  outputTruncated: boolean;
  /** Why the script did not complete, for people to read; empty when it did. */
  message: string;
}

export interface ScriptRunnerOptions {
  interpreters: ReadonlyMap<ScriptLanguageName, Interpreter>;
  resolveUserContext: () => Promise<UserContextResolution>;
  outputLimits: OutputLimits;
  /** How long a timed-out or cancelled script gets to stop after SIGTERM before its tree is killed. */
  killGraceMs: number;
  /** Where each script gets its own private directory. */
  tempDir: string;
  /** The environment System-context scripts inherit: the agent's own. */
  systemEnvironment: NodeJS.ProcessEnv;
}

export interface ScriptHooks {
  /** Aborting cancels the script; a string reason becomes the result's message. */
  signal: AbortSignal;
  onOutput: (piece: OutputPiece) => void;
}

/** After the script's own process exits, how long its pipes may stay open (held by an escaped grandchild). */
const pipeCloseTimeoutMs = 2000;
const standardPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Runs one script as a child process: written to a file in a private temporary directory, started by its
 * language's interpreter in its own process group, stopped with its whole tree on timeout or cancel, its
 * output streamed through an OutputCollector.
 */
export class ScriptRunner {
  readonly #options: ScriptRunnerOptions;

  constructor(options: ScriptRunnerOptions) {
    this.#options = options;
  }

  async run(request: ScriptRequest, hooks: ScriptHooks): Promise<ScriptResult> {
    const startedAt = performance.now();
    const notRun = (outcome: ScriptOutcome, message: string): ScriptResult => ({
      outcome,
      exitCode: 0,
      finalOutputLine: '',
      durationMs: elapsedMs(startedAt),
      outputTruncated: false,
      message,
    });

    const interpreter = request.language && this.#options.interpreters.get(request.language);
    if (!interpreter) {
      return notRun(
        'language-unavailable',
        request.language
          ? `this computer has no ${request.language} interpreter on the agent's PATH`
          : 'the command names no script language this agent knows',
      );
    }
    let parameters: Record<string, string>;
    try {
      parameters = parameterVariables(request.parameters);
    } catch (error) {
      if (error instanceof ParameterNameError) return notRun('failed-to-start', error.message);
      throw error;
    }
    let account: UserAccount | undefined;
    if (request.context === 'user') {
      const resolution = await this.#options.resolveUserContext();
      if (!resolution.ok) return notRun('failed-to-start', resolution.message);
      account = resolution.account;
    }
    if (hooks.signal.aborted) return notRun('cancelled', abortMessage(hooks.signal));

    const dir = await mkdtemp(join(this.#options.tempDir, 'converge-script-'));
    try {
      const scriptPath = join(dir, `script${interpreter.extension}`);
      // Windows PowerShell 5.1 reads a .ps1 without a byte order mark as the ANSI code page.
      const text = interpreter.extension === '.ps1' ? `\uFEFF${request.body}` : request.body;
      await writeFile(scriptPath, text, { mode: 0o700 });
      if (account) {
        await chown(dir, account.uid, account.gid);
        await chown(scriptPath, account.uid, account.gid);
      }
      const env = {
        ...(account
          ? userEnvironment(account, this.#options.systemEnvironment)
          : this.#options.systemEnvironment),
        ...parameters,
      };
      const child = spawn(interpreter.executable, interpreter.args(scriptPath), {
        cwd: dir,
        env,
        // Its own process group, so the whole tree can be signalled at once.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
        ...(account ? { uid: account.uid, gid: account.gid } : {}),
      });
      return await this.#supervise(child, request, hooks, startedAt);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async #supervise(
    child: ChildProcess,
    request: ScriptRequest,
    hooks: ScriptHooks,
    startedAt: number,
  ): Promise<ScriptResult> {
    if (child.pid === undefined) {
      // Spawning failed (no such file, no permission): Node reports it as an 'error' event.
      const [error] = (await once(child, 'error')) as [Error];
      return {
        outcome: 'failed-to-start',
        exitCode: 0,
        finalOutputLine: '',
        durationMs: elapsedMs(startedAt),
        outputTruncated: false,
        message: `the interpreter could not be started: ${error.message}`,
      };
    }
    const pid = child.pid;
    const output = new OutputCollector(this.#options.outputLimits, hooks.onOutput);
    child.stdout?.on('data', (data: Buffer) => {
      output.write('stdout', data);
    });
    child.stderr?.on('data', (data: Buffer) => {
      output.write('stderr', data);
    });

    let stoppedAs: { outcome: 'timed-out' | 'cancelled'; message: string } | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (outcome: 'timed-out' | 'cancelled', message: string): void => {
      if (stoppedAs) return;
      stoppedAs = { outcome, message };
      killProcessTree(pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        killProcessTree(pid, 'SIGKILL');
      }, this.#options.killGraceMs);
    };
    const timeoutTimer = setTimeout(() => {
      stop(
        'timed-out',
        `timed out after ${formatSeconds(request.timeoutMs)}; the script and its child processes were stopped`,
      );
    }, request.timeoutMs);
    const onAbort = (): void => {
      stop('cancelled', abortMessage(hooks.signal));
    };
    hooks.signal.addEventListener('abort', onAbort, { once: true });
    // A cancel that came while the script file was being written must not be missed.
    if (hooks.signal.aborted) onAbort();

    const closed = once(child, 'close').catch(() => undefined);
    try {
      const [code, exitSignal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      // The script is over: whatever it left running in its group goes with it, and its pipes then close.
      killProcessTree(pid, 'SIGKILL');
      const pipeTimeout = new AbortController();
      await Promise.race([
        closed,
        delay(pipeCloseTimeoutMs, undefined, { signal: pipeTimeout.signal }).catch(() => undefined),
      ]);
      pipeTimeout.abort();
      child.stdout?.destroy();
      child.stderr?.destroy();

      const summary = output.finish();
      const signalNumber = exitSignal ? (osConstants.signals[exitSignal] as number | undefined) : undefined;
      return {
        outcome: stoppedAs?.outcome ?? 'completed',
        exitCode: code ?? 128 + (signalNumber ?? 0),
        finalOutputLine: summary.finalOutputLine,
        durationMs: elapsedMs(startedAt),
        outputTruncated: summary.truncated,
        message: stoppedAs?.message ?? (exitSignal ? `the script was ended by ${exitSignal}` : ''),
      };
    } finally {
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      hooks.signal.removeEventListener('abort', onAbort);
    }
  }
}

/** A User-context script gets the user's own basics, not the agent's (root's) environment. */
function userEnvironment(account: UserAccount, systemEnvironment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const runtimeDir = `/run/user/${account.uid}`;
  return {
    HOME: account.home,
    USER: account.name,
    LOGNAME: account.name,
    SHELL: account.shell,
    PATH: standardPath,
    ...(systemEnvironment.LANG ? { LANG: systemEnvironment.LANG } : {}),
    // Lets a script reach the user's session (D-Bus, notifications) when the user has one.
    ...(existsSync(runtimeDir) ? { XDG_RUNTIME_DIR: runtimeDir } : {}),
  };
}

function abortMessage(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'cancelled';
}

function elapsedMs(startedAt: number): number {
  return Math.min(Math.round(performance.now() - startedAt), 0xffff_ffff);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
