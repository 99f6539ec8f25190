import { describe, expect, it } from '@jest/globals';
import type { PlannedSoftware } from '../domain/maintenance-session.ts';
import { applySessionEvent, createSession } from '../domain/session-transitions.ts';
import { decodeState, encodeState } from './session-state.ts';

const item = (id: string): PlannedSoftware => ({
  kind: 'software',
  id,
  name: id,
  prerequisites: [],
  timeoutSeconds: 60,
  parameters: { 'a.b': 'c' },
  desiredState: { state: 'installed-latest', version: '2.0' },
  scripts: { detect: `${id}-detect`, install: `${id}-install`, uninstall: `${id}-uninstall` },
});

describe('the stored state of a session', () => {
  it('reads back as the session it was, and holds neither items nor derived command ids', () => {
    const items = [item('reader'), item('editor')];
    const created = createSession(
      { id: 's1', tenantId: 't1', computerId: 'c1', agentId: 'a1', kind: 'full', trigger: 'api' },
      1_000,
    );
    let { session } = applySessionEvent(created.session, { type: 'plan-received', items }, 2_000);
    session = applySessionEvent(
      session,
      {
        type: 'command-result',
        commandId: 's1:reader:detect',
        outcome: 'completed',
        exitCode: 0,
        lastLine: '',
      },
      3_000,
    ).session;
    // A command id the state machine did not derive (from an earlier scheme) is kept as it was.
    const [first, ...rest] = session.actions;
    const renamed = { ...first!, commands: first!.commands.map((c) => ({ ...c, id: `legacy-${c.id}` })) };
    session = { ...session, actions: [renamed, ...rest] };

    const text = encodeState(session);
    expect(decodeState(text, { items, scripts: {} })).toEqual(session);
    expect(text).not.toContain('installed-latest');
    expect(text).not.toContain('"s1:editor:detect"');
    expect(text).toContain('legacy-s1:reader:detect');
  });

  it('refuses a plan that lacks one of its actions', () => {
    const items = [item('reader')];
    const created = createSession(
      { id: 's2', tenantId: 't1', computerId: 'c1', agentId: 'a1', kind: 'full', trigger: 'api' },
      1_000,
    );
    const { session } = applySessionEvent(created.session, { type: 'plan-received', items }, 2_000);
    expect(() => decodeState(encodeState(session), { items: [], scripts: {} })).toThrow(/plan/);
  });
});
