import { describe, expect, it } from '@jest/globals';
import { scriptLanguages, type AgentCommandRequested } from '@converge/contracts';
import { create, fromBinary, GatewayMessageSchema, toBinary } from '@converge/proto';
import { seededRandom } from '@converge/testing';
import { commandFrame } from './agent-command.ts';
import { commandFrameBytes } from './command-frame-encoding.ts';

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
  requestedAt: '2026-05-01T10:00:00.000Z',
};

/** What the reflective encoder writes for the same command. */
function reflective(command: AgentCommandRequested): Uint8Array {
  return toBinary(
    GatewayMessageSchema,
    create(GatewayMessageSchema, { kind: { case: 'command', value: commandFrame(command) } }),
  );
}

describe('command frame encoding', () => {
  it('writes the same bytes as the reflective encoder', () => {
    expect(Buffer.from(commandFrameBytes(requested))).toEqual(Buffer.from(reflective(requested)));
  });

  it('decodes to the Command frame of the requested command', () => {
    const message = fromBinary(GatewayMessageSchema, commandFrameBytes(requested));
    expect(message.kind.case).toBe('command');
    expect(message.kind.value).toMatchObject(commandFrame(requested));
  });

  it('writes multi-byte lengths, non-ASCII text, empty parameter values and no parameters alike', () => {
    const cases: AgentCommandRequested[] = [
      { ...requested, parameters: {} },
      { ...requested, parameters: { empty: '', 'ünïcödé-名前': 'välue ✓', big: 1.5e300, no: false } },
      { ...requested, body: 'x'.repeat(200), timeoutSeconds: 24 * 60 * 60 },
      { ...requested, body: '€'.repeat(70_000), parameters: { long: 'y'.repeat(20_000) } },
      { ...requested, context: 'system', language: 'powershell', commandId: 'c'.repeat(128) },
    ];
    for (const command of cases) {
      expect(Buffer.from(commandFrameBytes(command))).toEqual(Buffer.from(reflective(command)));
    }
  });

  it('matches the reflective encoder on random commands', () => {
    const random = seededRandom(42);
    const text = (max: number) =>
      Array.from({ length: Math.floor(random() * max) }, () =>
        String.fromCodePoint(
          random() < 0.8 ? 32 + Math.floor(random() * 95) : 0xa0 + Math.floor(random() * 0x3000),
        ),
      ).join('');
    for (let n = 0; n < 200; n++) {
      const parameters: AgentCommandRequested['parameters'] = {};
      const count = Math.floor(random() * 4);
      for (let p = 0; p < count; p++) {
        const kind = random();
        parameters[`p${String(p)}${text(10)}`] =
          kind < 0.4 ? text(300) : kind < 0.7 ? Math.floor(random() * 1e6) - 5e5 : random() < 0.5;
      }
      const command: AgentCommandRequested = {
        ...requested,
        commandId: `c${text(60)}`,
        sessionId: `s${text(60)}`,
        actionId: `a${text(20)}`,
        language: scriptLanguages[Math.floor(random() * scriptLanguages.length)] ?? 'sh',
        context: random() < 0.5 ? 'user' : 'system',
        body: `b${text(random() < 0.1 ? 20_000 : 400)}`,
        parameters,
        timeoutSeconds: 1 + Math.floor(random() * 24 * 60 * 60),
      };
      expect(Buffer.from(commandFrameBytes(command))).toEqual(Buffer.from(reflective(command)));
    }
  });
});
