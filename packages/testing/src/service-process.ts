import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { apiAudience } from '@converge/dev-oidc';
import { stack } from './stack.ts';
import { testKeys } from './test-keys.ts';
import { waitFor } from './wait-for.ts';

/** One JSON log line of a service process. */
export type LogLine = Record<string, unknown> & { msg?: string };

export interface ServiceProcess {
  /** The REST API's base URL, `http://127.0.0.1:<port>`. */
  baseUrl: string;
  port: number;
  child: ChildProcess;
  /** Every log line so far, in order. */
  logs: LogLine[];
  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, and resolves with the exit code once the process drained and exited. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, no draining. */
  kill(): Promise<void>;
}

export interface StartServiceOptions {
  /** The entry script, e.g. `services/identity/src/main.ts` (relative to the repository root). */
  entry: string;
  /** The service's name as it logs `<name> ready to serve`. */
  name: string;
  /** Extra or overriding environment variables (MONGO_DATABASE_PREFIX should be unique per test file). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Starts a service as its own process, the way production runs it, against the local stack, with its REST
 * API on a free port; resolves once the service logged that it is ready. Integration tests cross the same
 * process boundary as production traffic, and can kill the process to test a crash.
 */
export async function startService(opts: StartServiceOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [opts.entry], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      MONGO_URI: stack.mongoUri,
      REDIS_URL: stack.redisUrl,
      OIDC_ISSUER: stack.oidcIssuer,
      OIDC_AUDIENCE: apiAudience,
      KAFKA_PARTITIONS: '3',
      SHUTDOWN_TIMEOUT: '5s',
      COMMAND_ID_KEY: testKeys.commandId.toString('base64'),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ msg: line });
    }
  });

  const waitForLog = async (match: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> => {
    const found = await waitFor(
      () => {
        if (child.exitCode !== null) {
          throw new Error(`${opts.name} exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
        }
        return logs.find(match);
      },
      { timeoutMs, intervalMs: 25 },
    );
    // waitFor resolves only with a truthy probe result.
    return found as LogLine;
  };

  const ready = await waitForLog(
    (line) => line.msg === `${opts.name} ready to serve`,
    opts.timeoutMs ?? 30_000,
  );
  const port = Number(ready.port);
  const exited = once(child, 'exit').then(() => child.exitCode);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    child,
    logs,
    waitForLog,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
