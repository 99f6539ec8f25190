import {
  CommandOutcome,
  CommandResultSchema,
  ExecutionContext,
  OutputChunkSchema,
  OutputStream,
  ScriptLanguage,
  create,
  type Command,
  type CommandResult,
  type OutputChunk,
} from '@converge/proto';
import type { Logger } from './logger.ts';
import type { ScriptLanguageName } from './scripts/interpreters.ts';
import type { ScriptOutcome, ScriptRequest, ScriptRunner } from './scripts/script-runner.ts';

/** Where a command's frames go; the connection decides whether they are sent now or queued. */
export interface CommandSink {
  chunk(chunk: OutputChunk): void;
  result(result: CommandResult): void;
}

export interface CommandExecutorOptions {
  runner: Pick<ScriptRunner, 'run'>;
  sink: CommandSink;
  logger: Logger;
  /** How many finished commands are remembered, so a redelivered command is answered, not re-run. */
  rememberedCommands: number;
  /** For a command without a timeout: no script may run forever. */
  defaultTimeoutMs: number;
}

const languages: Partial<Record<ScriptLanguage, ScriptLanguageName>> = {
  [ScriptLanguage.BASH]: 'bash',
  [ScriptLanguage.SH]: 'sh',
  [ScriptLanguage.PWSH]: 'pwsh',
  [ScriptLanguage.POWERSHELL]: 'powershell',
  [ScriptLanguage.CMD]: 'cmd',
};

const outcomes: Record<ScriptOutcome, CommandOutcome> = {
  completed: CommandOutcome.COMPLETED,
  'timed-out': CommandOutcome.TIMED_OUT,
  cancelled: CommandOutcome.CANCELLED,
  'failed-to-start': CommandOutcome.FAILED_TO_START,
  'language-unavailable': CommandOutcome.LANGUAGE_UNAVAILABLE,
};

// setTimeout fires at once for delays above 2^31 - 1 ms (about 24.8 days).
const maxTimerMs = 2 ** 31 - 1;

/**
 * Runs commands at most once each: commands are delivered at least once (a gateway retries, a session resends
 * after a reconnect), so an id being run is ignored and a recently finished id is answered with its stored
 * result. Cancel stops a running command; stop() cancels them all when the agent shuts down.
 */
export class CommandExecutor {
  readonly #options: CommandExecutorOptions;
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** Insertion-ordered: the first key is the least recently used. */
  readonly #finished = new Map<string, CommandResult>();

  constructor(options: CommandExecutorOptions) {
    this.#options = options;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  handleCommand(command: Command): void {
    const { logger, sink } = this.#options;
    if (this.#running.has(command.id)) {
      logger.info({ commandId: command.id }, 'command already running; duplicate ignored');
      return;
    }
    const stored = this.#finished.get(command.id);
    if (stored) {
      this.#remember(command.id, stored);
      logger.info({ commandId: command.id }, 'command already finished; its result is sent again');
      sink.result(stored);
      return;
    }
    const controller = new AbortController();
    const done = this.#execute(command, controller.signal).finally(() => this.#running.delete(command.id));
    this.#running.set(command.id, { controller, done });
  }

  cancel(commandId: string, reason = 'cancelled on request'): void {
    const running = this.#running.get(commandId);
    if (!running) {
      this.#options.logger.info({ commandId }, 'cancel for a command that is not running; ignored');
      return;
    }
    running.controller.abort(reason);
  }

  /** Cancels every running command and waits until each has produced its result. */
  async stop(reason: string): Promise<void> {
    const running = [...this.#running.values()];
    for (const { controller } of running) controller.abort(reason);
    await Promise.all(running.map(({ done }) => done));
  }

  async #execute(command: Command, signal: AbortSignal): Promise<void> {
    const { runner, sink, logger, defaultTimeoutMs } = this.#options;
    const request: ScriptRequest = {
      language: languages[command.language],
      context: command.executionContext === ExecutionContext.USER ? 'user' : 'system',
      body: command.body,
      parameters: command.parameters,
      timeoutMs: Math.min(
        command.timeoutSeconds > 0 ? command.timeoutSeconds * 1000 : defaultTimeoutMs,
        maxTimerMs,
      ),
    };
    logger.info(
      {
        commandId: command.id,
        sessionId: command.sessionId,
        language: request.language,
        context: request.context,
      },
      'command started',
    );
    let result: CommandResult;
    try {
      const outcome = await runner.run(request, {
        signal,
        onOutput: (piece) => {
          sink.chunk(
            create(OutputChunkSchema, {
              commandId: command.id,
              sessionId: command.sessionId,
              seq: piece.seq,
              stream: piece.stream === 'stdout' ? OutputStream.STDOUT : OutputStream.STDERR,
              data: piece.data,
            }),
          );
        },
      });
      result = create(CommandResultSchema, {
        commandId: command.id,
        sessionId: command.sessionId,
        outcome: outcomes[outcome.outcome],
        exitCode: outcome.exitCode,
        finalOutputLine: outcome.finalOutputLine,
        durationMs: outcome.durationMs,
        outputTruncated: outcome.outputTruncated,
        message: outcome.message,
      });
    } catch (error) {
      // The runner's own I/O failed (a full disk for the script file, say): the script never ran.
      logger.error({ commandId: command.id, err: error }, 'command could not be started');
      result = create(CommandResultSchema, {
        commandId: command.id,
        sessionId: command.sessionId,
        outcome: CommandOutcome.FAILED_TO_START,
        message: `the agent could not start the script: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    logger.info(
      {
        commandId: command.id,
        outcome: CommandOutcome[result.outcome],
        exitCode: result.exitCode,
        durationMs: result.durationMs,
      },
      'command finished',
    );
    this.#remember(command.id, result);
    sink.result(result);
  }

  #remember(commandId: string, result: CommandResult): void {
    this.#finished.delete(commandId);
    this.#finished.set(commandId, result);
    while (this.#finished.size > this.#options.rememberedCommands) {
      const oldest = this.#finished.keys().next();
      if (oldest.done) break;
      this.#finished.delete(oldest.value);
    }
  }
}
