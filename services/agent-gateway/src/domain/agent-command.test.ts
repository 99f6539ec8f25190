import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  commandCompletedSchema,
  commandOutputChunkSchema,
  type AgentCommandRequested,
} from '@converge/contracts';
import {
  CommandOutcome,
  CommandResultSchema,
  create,
  ExecutionContext,
  OutputChunkSchema,
  OutputStream,
  ScriptLanguage,
} from '@converge/proto';
import { createCommandSecrets } from '@converge/store';
import {
  commandCompletedEvent,
  commandFrame,
  isExpired,
  notRunEvent,
  outputChunkEvent,
  withSecretsOpened,
} from './agent-command.ts';

const sender = { agentId: 'agent-1', tenantId: 'tenant-contoso' };
const now = new Date('2026-05-01T10:00:00.000Z');
const requested: AgentCommandRequested = {
  commandId: 'cmd-1',
  agentId: 'agent-1',
  tenantId: 'tenant-contoso',
  sessionId: 'session-1',
  actionId: 'action-1',
  language: 'bash',
  context: 'user',
  body: 'echo hi',
  parameters: { retries: 3, force: true, name: 'x' },
  timeoutSeconds: 60,
  requestedAt: now.toISOString(),
};

describe('command mapping', () => {
  it('turns a requested command into a Command frame with string parameters', () => {
    expect(commandFrame(requested)).toEqual({
      id: 'cmd-1',
      sessionId: 'session-1',
      actionId: 'action-1',
      language: ScriptLanguage.BASH,
      executionContext: ExecutionContext.USER,
      body: 'echo hi',
      parameters: { retries: '3', force: 'true', name: 'x' },
      timeoutSeconds: 60,
    });
  });

  it("opens a command's sealed parameters for the agent it was sealed to, the plain ones winning a shared name", () => {
    const secrets = createCommandSecrets(randomBytes(32));
    const binding = { tenantId: 'tenant-contoso', agentId: 'agent-1', sessionId: 'session-1' };
    const sealed = {
      ...requested,
      parameters: { name: 'x', version: '2.0' },
      sealedParameters: {
        ApiKey: secrets.seal(binding, 'ApiKey', 'hunter2'),
        version: secrets.seal(binding, 'version', 'from-the-deployment'),
      },
    };
    expect(withSecretsOpened(sealed, sender, secrets).parameters).toEqual({
      ApiKey: 'hunter2',
      name: 'x',
      version: '2.0',
    });
    expect(commandFrame(withSecretsOpened(sealed, sender, secrets)).parameters).toMatchObject({
      ApiKey: 'hunter2',
    });
    // The recipient is the connection's agent and tenant: a command naming another tenant does not help.
    for (const recipient of [
      { ...sender, tenantId: 'tenant-fabrikam' },
      { ...sender, agentId: 'agent-2' },
    ]) {
      expect(() => withSecretsOpened(sealed, recipient, secrets)).toThrow('does not open');
    }
    expect(() => withSecretsOpened({ ...sealed, sessionId: 'session-2' }, sender, secrets)).toThrow();
    expect(withSecretsOpened(requested, sender, secrets)).toBe(requested);
  });

  it('maps outcomes; a missing interpreter is a failure to start that says why', () => {
    const result = (outcome: CommandOutcome, message = '') =>
      commandCompletedEvent(
        create(CommandResultSchema, {
          commandId: 'cmd-1',
          sessionId: 'session-1',
          outcome,
          exitCode: 3,
          finalOutputLine: '1.2.3',
          durationMs: 40,
          message,
        }),
        sender,
        now,
      );
    const completed = result(CommandOutcome.COMPLETED);
    expect(completed.ok && completed.event).toMatchObject({
      outcome: 'completed',
      exitCode: 3,
      lastLine: '1.2.3',
    });
    expect(completed.ok && commandCompletedSchema.safeParse(completed.event).success).toBe(true);
    const timedOut = result(CommandOutcome.TIMED_OUT);
    expect(timedOut.ok && timedOut.event).toMatchObject({ outcome: 'timed-out', exitCode: null });
    const noPwsh = result(CommandOutcome.LANGUAGE_UNAVAILABLE, 'pwsh is not installed');
    expect(noPwsh.ok && noPwsh.event).toMatchObject({
      outcome: 'failed-to-start',
      message: 'pwsh is not installed',
    });
    expect(result(CommandOutcome.UNSPECIFIED).ok).toBe(false);
  });

  it('publishes output as UTF-8 text under the connection, not the frame', () => {
    const chunk = create(OutputChunkSchema, {
      commandId: 'cmd-1',
      sessionId: 'session-1',
      seq: 4,
      stream: OutputStream.STDERR,
      data: new TextEncoder().encode('grüße\n'),
    });
    const event = outputChunkEvent(chunk, sender);
    expect(event).toEqual({
      commandId: 'cmd-1',
      agentId: 'agent-1',
      tenantId: 'tenant-contoso',
      sessionId: 'session-1',
      seq: 4,
      stream: 'stderr',
      data: 'grüße\n',
    });
    expect(commandOutputChunkSchema.safeParse(event).success).toBe(true);
  });

  it('answers an undeliverable command at once, with no exit code and why', () => {
    const event = notRunEvent(requested, 'undeliverable', 'the agent is offline', now);
    expect(event).toMatchObject({
      outcome: 'undeliverable',
      exitCode: null,
      durationMs: 0,
      message: 'the agent is offline',
    });
    expect(commandCompletedSchema.safeParse(event).success).toBe(true);
  });

  it('expires a command that waited longer than the maximum age, and no sooner', () => {
    const maxAgeMs = 10 * 60_000;
    const at = (ms: number) => ({ requestedAt: new Date(now.getTime() - ms).toISOString() });
    expect(isExpired(at(maxAgeMs), now.getTime(), maxAgeMs)).toBe(false);
    expect(isExpired(at(maxAgeMs + 1), now.getTime(), maxAgeMs)).toBe(true);
    expect(isExpired(at(0), now.getTime(), maxAgeMs)).toBe(false);
  });
});
