import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  CommandOutcome,
  CommandSchema,
  ExecutionContext,
  ScriptLanguage,
  create,
  type CommandResult,
  type OutputChunk,
} from '@converge/proto';
import { CommandExecutor } from './command-executor.ts';
import { createLogger } from './logger.ts';
import { findInterpreters } from './scripts/interpreters.ts';
import { ScriptRunner } from './scripts/script-runner.ts';
import { resolveUserContext } from './scripts/user-context.ts';

function setup(rememberedCommands = 1000) {
  const chunks: OutputChunk[] = [];
  const results: CommandResult[] = [];
  const executor = new CommandExecutor({
    runner: new ScriptRunner({
      interpreters: findInterpreters(),
      resolveUserContext: () => resolveUserContext(() => Promise.resolve([])),
      outputLimits: { chunkBytes: 16 * 1024, flushIntervalMs: 20, maxBytes: 1024 * 1024 },
      killGraceMs: 300,
      tempDir: tmpdir(),
      systemEnvironment: process.env,
    }),
    sink: { chunk: (chunk) => chunks.push(chunk), result: (result) => results.push(result) },
    logger: createLogger({ level: 'silent' }),
    rememberedCommands,
    defaultTimeoutMs: 60_000,
  });
  return { executor, chunks, results };
}

function command(id: string, body: string, extra: Partial<{ parameters: Record<string, string> }> = {}) {
  return create(CommandSchema, {
    id,
    sessionId: `session-of-${id}`,
    actionId: 'action-1',
    language: ScriptLanguage.BASH,
    executionContext: ExecutionContext.SYSTEM,
    body,
    timeoutSeconds: 30,
    ...extra,
  });
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const runLog = () => `${tmpdir()}/converge-executor-${process.pid}-${Math.random().toString(36).slice(2)}`;

describe('command executor', () => {
  it('runs a command and echoes its session on every chunk and on the result', async () => {
    const { executor, chunks, results } = setup();
    executor.handleCommand(command('c1', 'echo "$CONVERGE_PARAM_NAME"', { parameters: { name: 'world' } }));
    await until(() => results.length === 1);
    expect(chunks.map((c) => [c.commandId, c.sessionId, c.seq, Buffer.from(c.data).toString()])).toEqual([
      ['c1', 'session-of-c1', 0, 'world\n'],
    ]);
    expect(results[0]).toMatchObject({
      commandId: 'c1',
      sessionId: 'session-of-c1',
      outcome: CommandOutcome.COMPLETED,
      exitCode: 0,
      finalOutputLine: 'world',
    });
  });

  it('does not run a command id twice: ignored while running, answered from memory once finished', async () => {
    const { executor, results } = setup();
    const log = runLog();
    const body = `echo ran >> ${log}; sleep 0.3; echo 7.1`;
    executor.handleCommand(command('dup', body));
    executor.handleCommand(command('dup', body));
    await until(() => results.length === 1);
    executor.handleCommand(command('dup', body));
    await until(() => results.length === 2);
    expect(results[1]).toEqual(results[0]);
    expect(results[1]?.finalOutputLine).toBe('7.1');
    expect(readFileSync(log, 'utf8')).toBe('ran\n');
  });

  it('forgets the least recently used results beyond its memory', async () => {
    const { executor, results } = setup(2);
    const log = runLog();
    for (const id of ['a', 'b', 'c']) {
      executor.handleCommand(command(id, `echo ${id} >> ${log}`));
      await until(() => results.length === ['a', 'b', 'c'].indexOf(id) + 1);
    }
    executor.handleCommand(command('a', `echo a >> ${log}`));
    await until(() => results.length === 4);
    expect(readFileSync(log, 'utf8')).toBe('a\nb\nc\na\n');
  });

  it('cancels a running command and still sends its result', async () => {
    const { executor, chunks, results } = setup();
    executor.handleCommand(command('long', 'echo started; sleep 30'));
    await until(() => chunks.length === 1);
    executor.cancel('long', 'cancelled on request');
    await until(() => results.length === 1);
    expect(results[0]).toMatchObject({ outcome: CommandOutcome.CANCELLED, message: 'cancelled on request' });
    expect(executor.runningCount).toBe(0);
  });

  it('stops every running command when the agent stops', async () => {
    const { executor, results } = setup();
    executor.handleCommand(command('x', 'sleep 30'));
    executor.handleCommand(command('y', 'sleep 30'));
    await executor.stop('the agent is stopping');
    expect(results.map((r) => [r.commandId, r.outcome, r.message]).sort()).toEqual([
      ['x', CommandOutcome.CANCELLED, 'the agent is stopping'],
      ['y', CommandOutcome.CANCELLED, 'the agent is stopping'],
    ]);
  });

  it('answers a language the agent does not know', async () => {
    const { executor, results } = setup();
    executor.handleCommand(
      create(CommandSchema, { id: 'u', sessionId: 's', language: ScriptLanguage.UNSPECIFIED, body: 'x' }),
    );
    await until(() => results.length === 1);
    expect(results[0]?.outcome).toBe(CommandOutcome.LANGUAGE_UNAVAILABLE);
  });
});
