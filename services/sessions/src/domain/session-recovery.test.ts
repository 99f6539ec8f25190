import { describe, expect, it } from '@jest/globals';
import type { PlannedSoftware } from './maintenance-session.ts';
import { resendAfterCrash } from './session-recovery.ts';
import { applySessionEvent, createSession } from './session-transitions.ts';

const software = (id: string): PlannedSoftware => ({
  kind: 'software',
  id,
  name: id,
  prerequisites: [],
  timeoutSeconds: 600,
  parameters: {},
  desiredState: { state: 'installed-latest', version: '2.0' },
  scripts: { detect: `${id}-detect`, install: `${id}-install`, uninstall: `${id}-uninstall` },
});

function running() {
  const created = createSession(
    { id: 's1', tenantId: 't1', computerId: 'c1', agentId: 'a1', kind: 'full', trigger: 'api' },
    0,
  );
  return applySessionEvent(
    created.session,
    { type: 'plan-received', items: [software('a'), software('b')] },
    1,
  ).session;
}

describe('what a session sends again after its owner died before sending', () => {
  it('sends every command still waiting again, under its id, and publishes the session as it is', () => {
    const session = running();
    const again = resendAfterCrash(session);
    expect(again.commands).toEqual([
      expect.objectContaining({ type: 'run-script', commandId: 's1:a:detect', scriptId: 'a-detect' }),
      expect.objectContaining({ type: 'run-script', commandId: 's1:b:detect', scriptId: 'b-detect' }),
    ]);
    expect(again.events.at(-1)).toEqual({
      type: 'session-updated',
      sessionId: 's1',
      version: session.version,
      status: 'running',
      previousStatus: null,
      stage: 'detection',
      reason: null,
    });
    expect(again.events.filter((event) => event.type === 'action-updated')).toHaveLength(2);
    expect(again.session).toBe(session);
  });

  it('cancels again what a cancelled session stopped waiting for, and runs nothing', () => {
    const cancelled = applySessionEvent(running(), { type: 'cancel-requested', reason: 'by Ada' }, 2).session;
    const again = resendAfterCrash(cancelled);
    expect(again.commands).toEqual([
      { type: 'cancel-command', commandId: 's1:a:detect', agentId: 'a1' },
      { type: 'cancel-command', commandId: 's1:b:detect', agentId: 'a1' },
    ]);
    expect(again.events.at(-1)).toMatchObject({ status: 'cancelled', version: cancelled.version });
  });
});
