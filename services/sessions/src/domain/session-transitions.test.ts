import { describe, it, expect } from '@jest/globals';
import type {
  AgentCommand,
  CommandResult,
  MaintenanceSession,
  PlannedItem,
  PlannedSoftware,
  PlannedTask,
  SessionEvent,
  SessionKind,
  SessionTransition,
} from './maintenance-session.ts';
import { InvalidPlanError } from './session-plan.ts';
import { applySessionEvent, createSession, sessionWakeAt } from './session-transitions.ts';
import { maxLogLinesPerAction, resultGraceMs } from './session-work.ts';

const t0 = 1_700_000_000_000;

function software(id: string, overrides: Partial<PlannedSoftware> = {}): PlannedSoftware {
  return {
    kind: 'software',
    id,
    name: id,
    prerequisites: [],
    timeoutSeconds: 600,
    parameters: {},
    desiredState: { state: 'installed-latest', version: '2.0' },
    scripts: { detect: `${id}-detect`, install: `${id}-install`, uninstall: `${id}-uninstall` },
    ...overrides,
  };
}

function task(id: string, mode: PlannedTask['mode']): PlannedTask {
  const base = { kind: 'task' as const, id, name: id, prerequisites: [], timeoutSeconds: 60, parameters: {} };
  if (mode === 'enforce') return { ...base, mode, scripts: { test: `${id}-test`, set: `${id}-set` } };
  if (mode === 'audit') return { ...base, mode, scripts: { test: `${id}-test` } };
  return { ...base, mode, scripts: { get: `${id}-get` } };
}

/** Drives one session through events, keeping everything it sent and published. */
class SessionDriver {
  session: MaintenanceSession;
  now = t0;
  readonly sent: AgentCommand[] = [];
  readonly published: SessionTransition['events'] = [];
  last: SessionTransition;

  constructor(kind: SessionKind = 'full', extra: { startAt?: number; notAfter?: number } = {}) {
    const created = createSession(
      { id: 's1', tenantId: 't1', computerId: 'c1', agentId: 'a1', kind, trigger: 'technician', ...extra },
      this.now,
    );
    this.session = created.session;
    this.last = created;
    this.published.push(...created.events);
  }

  apply(event: SessionEvent): SessionTransition {
    this.last = applySessionEvent(this.session, event, this.now);
    this.session = this.last.session;
    this.sent.push(...this.last.commands);
    this.published.push(...this.last.events);
    return this.last;
  }

  plan(...items: PlannedItem[]): SessionTransition {
    return this.apply({ type: 'plan-received', items });
  }

  answer(
    commandId: string,
    lastLine: string | null,
    exitCode: number | null = 0,
    outcome: CommandResult['outcome'] = 'completed',
  ) {
    return this.apply({ type: 'command-result', commandId, outcome, exitCode, lastLine });
  }

  /** The lines the session logged for an action, in order. */
  logOf(actionId: string): string[] {
    return this.published.flatMap((event) =>
      event.type === 'log-line' && event.actionId === actionId ? [event.line] : [],
    );
  }

  /** The run-script commands of the last transition, as "action:step". */
  lastRuns(): string[] {
    return this.last.commands.flatMap((c) => (c.type === 'run-script' ? [`${c.actionId}:${c.step}`] : []));
  }

  action(id: string) {
    const found = this.session.actions.find((a) => a.id === id);
    if (found === undefined) throw new Error(`no action ${id}`);
    return found;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe('maintenance session state machine', () => {
  it('a new session waits for its plan, and an onboarding session starts in the onboarding stage', () => {
    const full = new SessionDriver();
    expect(full.session).toMatchObject({ status: 'created', stage: 'detection', version: 1 });
    const onboarding = new SessionDriver('onboarding');
    expect(onboarding.session.stage).toBe('onboarding');
    onboarding.plan();
    expect(onboarding.session.stage).not.toBe('onboarding');
  });

  it('runs a prerequisite chain in plan order: detect all, then install and verify each in turn', () => {
    const d = new SessionDriver();
    d.plan(software('vcredist'), software('3cx', { prerequisites: ['vcredist'] }));
    expect(d.session).toMatchObject({ status: 'running', stage: 'detection' });
    expect(d.lastRuns()).toEqual(['vcredist:detect', '3cx:detect']);

    d.answer('s1:vcredist:detect', '');
    expect(d.last.commands).toEqual([]);
    d.answer('s1:3cx:detect', '1.0');
    expect(d.action('3cx')).toMatchObject({
      type: 'update',
      status: 'waiting-for-prerequisite',
      detected: '1.0',
    });
    expect(d.action('vcredist')).toMatchObject({ type: 'install', status: 'running' });
    expect(d.session.stage).toBe('execution');
    expect(d.last.commands).toEqual([
      {
        type: 'run-script',
        commandId: 's1:vcredist:install',
        agentId: 'a1',
        actionId: 'vcredist',
        step: 'install',
        scriptId: 'vcredist-install',
        parameters: { version: '2.0' },
        timeoutSeconds: 600,
      },
    ]);

    d.answer('s1:vcredist:install', 'done');
    expect(d.lastRuns()).toEqual(['vcredist:verify']);
    expect(d.session.stage).toBe('verification');
    d.answer('s1:vcredist:verify', '2.0');
    expect(d.action('vcredist')).toMatchObject({ status: 'done', result: 'success' });
    expect(d.lastRuns()).toEqual(['3cx:update']);
    d.answer('s1:3cx:update', '');
    d.answer('s1:3cx:verify', '2.0.0');

    expect(d.session).toMatchObject({ status: 'passed', stage: 'report', finishedAt: t0 });
    expect(d.action('3cx')).toMatchObject({
      result: 'success',
      reason: 'desired state reached',
      detected: '2.0.0',
    });
    const versions = d.published.map((e) => e.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(d.session.version).toBe(8);
    expect(d.published.at(-1)).toMatchObject({
      type: 'session-updated',
      status: 'passed',
      previousStatus: 'running',
    });
  });

  it('passes without executing anything when detection finds every item in its desired state', () => {
    const d = new SessionDriver();
    d.plan(
      software('a'),
      software('b', { desiredState: { state: 'uninstalled' } }),
      software('c', { desiredState: { state: 'ignored' } }),
    );
    expect(d.lastRuns()).toEqual(['a:detect', 'b:detect']);
    expect(d.action('c')).toMatchObject({
      type: 'no-action',
      result: 'success',
      reason: 'ignored by its deployment',
    });
    d.answer('s1:a:detect', '2.1');
    d.answer('s1:b:detect', '');
    expect(d.session).toMatchObject({ status: 'passed', stage: 'report', executionStarted: false });
    expect(d.sent.map((c) => c.commandId)).toEqual(['s1:a:detect', 's1:b:detect']);
  });

  it('skips an action whose prerequisite failed, with that reason, and reports a partial pass', () => {
    const d = new SessionDriver();
    d.plan(software('office'), software('addin', { prerequisites: ['office'] }), software('zip'));
    d.answer('s1:office:detect', '');
    d.answer('s1:addin:detect', '');
    d.answer('s1:zip:detect', '2.0');
    d.answer('s1:office:install', 'error 1603', 1603);
    expect(d.action('office')).toMatchObject({
      result: 'failed',
      reason: 'install failed with exit code 1603',
    });
    expect(d.action('addin')).toMatchObject({
      status: 'skipped',
      result: 'failed',
      reason: 'skipped: prerequisite office did not succeed',
    });
    expect(d.last.commands).toEqual([]);
    expect(d.session.status).toBe('partially-passed');
  });

  it('fails an action whose verification does not find the desired state, and the session with it', () => {
    const d = new SessionDriver();
    d.plan(software('reader', { desiredState: { state: 'installed-specific', version: '3.0' } }));
    d.answer('s1:reader:detect', '2.5');
    d.answer('s1:reader:update', '');
    d.answer('s1:reader:verify', '2.5');
    expect(d.action('reader')).toMatchObject({
      type: 'update',
      result: 'failed',
      reason: 'desired state not reached: detected 2.5, desired 3.0',
    });
    expect(d.session.status).toBe('failed');
  });

  it('downgrades by uninstalling first, then installing the pinned version', () => {
    const d = new SessionDriver();
    d.plan(software('java', { desiredState: { state: 'installed-specific', version: '8.0' } }));
    d.answer('s1:java:detect', '17.0.2');
    expect(d.lastRuns()).toEqual(['java:uninstall']);
    d.answer('s1:java:uninstall', '');
    expect(d.lastRuns()).toEqual(['java:install']);
    d.answer('s1:java:install', '');
    d.answer('s1:java:verify', '8');
    expect(d.action('java')).toMatchObject({ type: 'downgrade', result: 'success' });
  });

  it('cannot tell the state when detection fails or prints something that is not a version', () => {
    const d = new SessionDriver();
    d.plan(software('a'), software('b'));
    d.answer('s1:a:detect', 'Access denied');
    d.answer('s1:b:detect', null, null, 'timed-out');
    expect(d.action('a')).toMatchObject({
      result: 'indeterminable',
      reason: "detect returned 'Access denied', not a version",
    });
    expect(d.action('b')).toMatchObject({ result: 'indeterminable', reason: 'detect timed out' });
    expect(d.session.status).toBe('failed');
  });

  it('enforces a task by testing, setting when non-compliant and testing again', () => {
    const d = new SessionDriver();
    d.plan(task('bitlocker', 'enforce'));
    expect(d.lastRuns()).toEqual(['bitlocker:test']);
    d.answer('s1:bitlocker:test', 'False');
    expect(d.lastRuns()).toEqual(['bitlocker:set']);
    d.answer('s1:bitlocker:set', 'enabling');
    expect(d.lastRuns()).toEqual(['bitlocker:retest']);
    d.answer('s1:bitlocker:retest', 'checking\ntrue'.split('\n').at(-1)!);
    expect(d.action('bitlocker')).toMatchObject({
      type: 'task-enforce',
      result: 'success',
      detected: 'true',
    });
    expect(d.session.status).toBe('passed');
  });

  it('fails an enforced task that is still non-compliant after set, and skips set when already compliant', () => {
    const d = new SessionDriver();
    d.plan(task('still-bad', 'enforce'), task('fine', 'enforce'));
    d.answer('s1:fine:test', 'true');
    d.answer('s1:still-bad:test', 'false');
    d.answer('s1:still-bad:set', '');
    d.answer('s1:still-bad:retest', 'false');
    expect(d.action('still-bad')).toMatchObject({
      result: 'failed',
      reason: 'still not compliant after set',
    });
    expect(d.action('fine').commands.map((c) => c.step)).toEqual(['test']);
  });

  it('audits a task with its test only and monitors a task by storing what get returned', () => {
    const d = new SessionDriver();
    d.plan(task('firewall', 'audit'), task('recovery-key', 'monitor'));
    expect(d.lastRuns()).toEqual(['firewall:test', 'recovery-key:get']);
    d.answer('s1:firewall:test', 'false');
    d.answer('s1:recovery-key:get', '123456-654321');
    expect(d.action('firewall')).toMatchObject({
      type: 'task-audit',
      result: 'failed',
      reason: 'not compliant',
    });
    expect(d.action('recovery-key')).toMatchObject({
      type: 'task-monitor',
      result: 'success',
      detected: '123456-654321',
    });
    expect(d.sent).toHaveLength(2);
    expect(d.session.status).toBe('partially-passed');
  });

  it('a detection-only session decides actions but runs none of them', () => {
    const d = new SessionDriver('detection-only');
    d.plan(software('a'), task('b', 'enforce'));
    d.answer('s1:a:detect', '');
    d.answer('s1:b:test', 'false');
    expect(d.action('a')).toMatchObject({
      type: 'install',
      status: 'skipped',
      reason: 'detection only: install not run',
    });
    expect(d.session).toMatchObject({ status: 'passed', executionStarted: false });
    expect(d.sent).toHaveLength(2);
  });

  it('cancelling stops in-flight commands, closes unfinished actions and records a late result without acting', () => {
    const d = new SessionDriver();
    d.plan(software('a'), software('b'));
    d.answer('s1:a:detect', '');
    d.answer('s1:b:detect', '');
    const cancelled = d.apply({ type: 'cancel-requested', reason: 'technician cancelled' });
    expect(cancelled.commands).toEqual([
      { type: 'cancel-command', commandId: 's1:a:install', agentId: 'a1' },
    ]);
    expect(d.session).toMatchObject({ status: 'cancelled', stage: 'report', reason: 'technician cancelled' });
    expect(d.action('a')).toMatchObject({ status: 'done', result: 'cancelled' });
    expect(d.action('b')).toMatchObject({ status: 'skipped', result: 'cancelled' });

    const late = d.answer('s1:a:install', '');
    expect(late.commands).toEqual([]);
    expect(late.session.version).toBe(cancelled.session.version + 1);
    expect(d.logOf('a')).toEqual(['late result ignored: install completed (exit code 0)']);
    expect(d.action('a').result).toBe('cancelled');
    expect(d.session.status).toBe('cancelled');
    expect(d.apply({ type: 'cancel-requested', reason: 'again' }).session).toBe(late.session);
  });

  it('a duplicate result changes nothing, not even the version', () => {
    const d = new SessionDriver();
    d.plan(software('a'));
    const first = d.answer('s1:a:detect', '');
    const again = d.answer('s1:a:detect', '');
    expect(again.session).toBe(first.session);
    expect(again.commands).toEqual([]);
    expect(again.events).toEqual([]);
    expect(d.answer('s1:unknown:detect', '').session).toBe(first.session);
  });

  it('a redelivered plan is ignored once the session has one', () => {
    const d = new SessionDriver();
    const first = d.plan(software('a'));
    expect(d.plan(software('a'), software('b')).session).toBe(first.session);
  });

  it('waits for an offline agent and re-sends the undelivered command under the same id when it connects', () => {
    const d = new SessionDriver();
    d.plan(software('a'));
    const undelivered = d.answer('s1:a:detect', null, null, 'undeliverable');
    expect(undelivered.session).toMatchObject({ status: 'pending-connectivity', reason: 'agent offline' });
    expect(undelivered.commands).toEqual([]);
    expect(d.answer('s1:a:detect', null, null, 'undeliverable').session).toBe(undelivered.session);

    d.now += 5 * 60 * 60 * 1000;
    expect(d.apply({ type: 'timeout-tick' }).session).toBe(undelivered.session);

    d.apply({ type: 'agent-connected' });
    expect(d.session.status).toBe('running');
    expect(d.last.commands.map((c) => c.commandId)).toEqual(['s1:a:detect']);
    expect(d.action('a').commands[0]).toMatchObject({ state: 'in-flight', sentAt: d.now });
    d.answer('s1:a:detect', '2.0');
    expect(d.session.status).toBe('passed');
  });

  it('when the agent goes offline mid-command, re-sends it on reconnect and accepts the one result', () => {
    const d = new SessionDriver();
    d.plan(software('a'));
    d.answer('s1:a:detect', '');
    d.apply({ type: 'agent-offline' });
    expect(d.session.status).toBe('pending-connectivity');
    d.apply({ type: 'agent-connected' });
    expect(d.lastRuns()).toEqual(['a:install']);
    expect(d.last.commands[0]).toMatchObject({ commandId: 's1:a:install', parameters: { version: '2.0' } });
    d.answer('s1:a:install', '');
    const duplicate = d.answer('s1:a:install', '');
    expect(duplicate.commands).toEqual([]);
    expect(d.sent.filter((c) => c.commandId === 's1:a:verify')).toHaveLength(1);
  });

  it('gives up on a command with no result by its deadline, tells the agent to stop and records a late result', () => {
    const d = new SessionDriver();
    d.plan(software('a'), software('b'));
    d.now += 600 * 1000 + resultGraceMs - 1;
    expect(d.apply({ type: 'timeout-tick' }).commands).toEqual([]);
    d.now += 1;
    const tick = d.apply({ type: 'timeout-tick' });
    expect(tick.commands).toEqual([
      { type: 'cancel-command', commandId: 's1:a:detect', agentId: 'a1' },
      { type: 'cancel-command', commandId: 's1:b:detect', agentId: 'a1' },
    ]);
    expect(d.action('a')).toMatchObject({ result: 'indeterminable', reason: 'detect timed out' });
    expect(d.session.status).toBe('failed');
    d.answer('s1:a:detect', '');
    expect(d.logOf('a').at(-1)).toBe('late result ignored: detect completed (exit code 0)');
    expect(d.action('a').result).toBe('indeterminable');
  });

  it('a scheduled session stays pending until its start, and can be postponed before it starts', () => {
    const d = new SessionDriver('full', { startAt: t0 + 1000 });
    d.plan(software('a'));
    expect(d.session.status).toBe('pending');
    expect(d.sent).toEqual([]);
    d.apply({ type: 'postpone-requested', until: t0 + 5000 });
    expect(d.session).toMatchObject({ status: 'postponed', startAt: t0 + 5000 });
    d.now = t0 + 4999;
    expect(d.apply({ type: 'timeout-tick' }).commands).toEqual([]);
    d.now = t0 + 5000;
    d.apply({ type: 'timeout-tick' });
    expect(d.session.status).toBe('running');
    expect(d.lastRuns()).toEqual(['a:detect']);
    expect(d.apply({ type: 'postpone-requested', until: t0 + 9000 }).session.status).toBe('running');
  });

  it('is missed when its maintenance window passes before it changed anything', () => {
    const d = new SessionDriver('full', { notAfter: t0 + 60_000 });
    d.plan(software('a'));
    d.answer('s1:a:detect', null, null, 'undeliverable');
    d.now = t0 + 60_001;
    const missed = d.apply({ type: 'timeout-tick' });
    expect(missed.session).toMatchObject({ status: 'missed', stage: 'report' });
    expect(missed.commands).toEqual([]);
    expect(d.action('a')).toMatchObject({ status: 'done', result: 'cancelled', reason: 'session missed' });
  });

  it('is not missed once it has started changing the computer', () => {
    const d = new SessionDriver('full', { notAfter: t0 + 60_000 });
    d.plan(software('a'));
    d.answer('s1:a:detect', '');
    d.apply({ type: 'agent-offline' });
    d.now = t0 + 120_000;
    expect(d.apply({ type: 'timeout-tick' }).session.status).toBe('pending-connectivity');
  });

  it('logs output lines once per chunk, numbered per action, without keeping them in the session', () => {
    const d = new SessionDriver();
    d.plan(software('a'));
    const chunk = d.apply({ type: 'output-chunk', commandId: 's1:a:detect', seq: 0, data: 'one\r\ntwo\n\n' });
    const line = { type: 'log-line', sessionId: 's1', version: 3, actionId: 'a', commandId: 's1:a:detect' };
    expect(chunk.events).toEqual([
      { ...line, line: 'one', index: 0 },
      { ...line, line: 'two', index: 1 },
    ]);
    expect(d.apply({ type: 'output-chunk', commandId: 's1:a:detect', seq: 0, data: 'one' }).session).toBe(
      chunk.session,
    );
    const lines = Array.from({ length: maxLogLinesPerAction + 5 }, (_, i) => `line ${i}`).join('\n');
    const chatty = d.apply({ type: 'output-chunk', commandId: 's1:a:detect', seq: 1, data: lines });
    expect(d.action('a').logLines).toBe(maxLogLinesPerAction + 7);
    expect(chatty.events.at(-1)).toMatchObject({
      line: `line ${maxLogLinesPerAction + 4}`,
      index: maxLogLinesPerAction + 6,
    });
    // The state does not grow with the log: only the count changed.
    expect(JSON.stringify(d.session).length).toBe(JSON.stringify(chunk.session).length + 2);
  });

  it('rejects a plan whose prerequisite is not earlier in it, or whose desired version is not a version', () => {
    const d = new SessionDriver();
    expect(() => d.plan(software('b', { prerequisites: ['a'] }), software('a'))).toThrow(InvalidPlanError);
    expect(() => d.plan(software('a', { desiredState: { state: 'any', version: 'latest' } }))).toThrow(
      /wants version 'latest'/,
    );
    expect(() => d.plan(software('a'), software('a'))).toThrow(/appears twice/);
  });

  it('never mutates the session it is given', () => {
    const d = new SessionDriver();
    d.plan(software('a'), task('b', 'enforce'));
    const frozen = deepFreeze(structuredClone(d.session));
    const snapshot = structuredClone(frozen);
    const next = applySessionEvent(
      frozen,
      { type: 'command-result', commandId: 's1:a:detect', outcome: 'completed', exitCode: 0, lastLine: '' },
      t0,
    );
    expect(frozen).toEqual(snapshot);
    expect(next.session.version).toBe(frozen.version + 1);
  });

  it('fails a session whose plan could not be had, once, and only while it waits for one', () => {
    const d = new SessionDriver();
    d.apply({ type: 'plan-failed', reason: 'computer not found' });
    expect(d.session).toMatchObject({ status: 'failed', stage: 'report', reason: 'computer not found' });
    const again = d.apply({ type: 'plan-failed', reason: 'other' });
    expect(again.events).toEqual([]);
    const running = new SessionDriver();
    running.plan(software('a'));
    running.apply({ type: 'plan-failed', reason: 'late' });
    expect(running.session.status).toBe('running');
  });

  it('wakes a session when its plan, start, window end or earliest command deadline is due', () => {
    const d = new SessionDriver('full', { startAt: t0 + 5000, notAfter: t0 + 60_000 });
    expect(sessionWakeAt(d.session)).toBe(t0);
    d.plan(software('a'), software('b'));
    expect(d.session.status).toBe('pending');
    expect(sessionWakeAt(d.session)).toBe(t0 + 5000);
    d.now = t0 + 5000;
    d.apply({ type: 'timeout-tick' });
    expect(d.session.status).toBe('running');
    expect(sessionWakeAt(d.session)).toBe(t0 + 5000 + 600_000 + resultGraceMs);
    d.apply({ type: 'agent-offline' });
    expect(sessionWakeAt(d.session)).toBe(t0 + 60_001);
    d.apply({ type: 'cancel-requested', reason: 'by a technician' });
    expect(sessionWakeAt(d.session)).toBeNull();
  });
});
