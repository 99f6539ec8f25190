import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createCommandIds } from '@converge/contracts';
import type { AgentCommand } from './maintenance-session.ts';
import { commandMessage, type PlanScripts } from './plan-scripts.ts';

const session = { id: 's1', tenantId: 't1' };
const now = new Date('2026-11-23T10:00:00Z');
const commandIds = createCommandIds(randomBytes(32));
const scripts: PlanScripts = {
  detect: {
    scriptId: 'detect',
    language: 'bash',
    executionContext: 'system',
    body: 'echo 1.0',
    methodParameter: false,
  },
  combined: {
    scriptId: 'combined',
    language: 'pwsh',
    executionContext: 'user',
    body: 'param($method)',
    methodParameter: true,
  },
  meta: {
    scriptId: 'meta',
    language: 'powershell',
    executionContext: 'metascript',
    body: 'x',
    methodParameter: false,
  },
};

function run(
  step: 'detect' | 'test' | 'retest' | 'set',
  scriptId: string,
): Extract<AgentCommand, { type: 'run-script' }> {
  return {
    type: 'run-script',
    commandId: `s1:item:${step}`,
    agentId: 'a1',
    actionId: 'item',
    step,
    scriptId,
    parameters: { port: '443' },
    timeoutSeconds: 60,
  };
}

describe('the gateway message for a command', () => {
  it('carries the script, its language and context, the parameters and the timeout', () => {
    expect(commandMessage(session, run('detect', 'detect'), scripts, now, commandIds)).toEqual({
      kind: 'run',
      data: {
        commandId: commandIds.issue('a1', 's1', 's1:item:detect'),
        agentId: 'a1',
        tenantId: 't1',
        sessionId: 's1',
        actionId: 'item',
        language: 'bash',
        context: 'system',
        body: 'echo 1.0',
        parameters: { port: '443' },
        timeoutSeconds: 60,
        requestedAt: now.toISOString(),
      },
    });
  });

  it('passes secret parameters on as deployments sealed them, and none when the item has none', () => {
    const sealedParameters = { ApiKey: 'v1:sealed-for-the-gateway' };
    const message = commandMessage(
      session,
      { ...run('set', 'combined'), sealedParameters },
      scripts,
      now,
      commandIds,
    );
    expect(message.kind === 'run' && message.data).toMatchObject({
      parameters: { port: '443', method: 'set' },
      sealedParameters,
    });
    const plain = commandMessage(session, run('detect', 'detect'), scripts, now, commandIds);
    expect(plain.kind === 'run' && 'sealedParameters' in plain.data).toBe(false);
  });

  it('tells a combined task script which method to run', () => {
    const methods = (['test', 'retest', 'set'] as const).map((step) => {
      const message = commandMessage(session, run(step, 'combined'), scripts, now, commandIds);
      return message.kind === 'run' ? message.data.parameters.method : undefined;
    });
    expect(methods).toEqual(['test', 'test', 'set']);
  });

  it('cannot run a missing script or one agents do not run, and says why', () => {
    expect(commandMessage(session, run('detect', ''), scripts, now, commandIds)).toEqual({
      kind: 'cannot-run',
      commandId: 's1:item:detect',
      message: 'no detect script in the plan',
    });
    expect(commandMessage(session, run('set', 'meta'), scripts, now, commandIds)).toMatchObject({
      kind: 'cannot-run',
      message: 'metascript scripts do not run on agents',
    });
  });

  it('passes a cancellation on with the session and tenant', () => {
    const cancel: AgentCommand = { type: 'cancel-command', commandId: 's1:item:set', agentId: 'a1' };
    expect(commandMessage(session, cancel, scripts, now, commandIds)).toEqual({
      kind: 'cancel',
      data: {
        commandId: commandIds.issue('a1', 's1', 's1:item:set'),
        agentId: 'a1',
        tenantId: 't1',
        sessionId: 's1',
        requestedAt: now.toISOString(),
      },
    });
  });
});
