import { applyStepResult, startDetection, startExecution } from './action-steps.ts';
import { finalSessionStatuses } from './maintenance-session.ts';
import type {
  ActionType,
  CommandResult,
  MaintenanceAction,
  MaintenanceSession,
  PlannedItem,
  SessionEvent,
  SessionStatus,
  SessionTransition,
} from './maintenance-session.ts';
import { finishedSessionStatus } from './session-outcome.ts';
import { validatePlan } from './session-plan.ts';
import {
  appendLog,
  findCommand,
  finishWork,
  resultGraceMs,
  runScript,
  settleAction,
  startWork,
  updateCommand,
} from './session-work.ts';
import type { SessionWork } from './session-work.ts';

export interface NewSession extends Pick<
  MaintenanceSession,
  'id' | 'tenantId' | 'computerId' | 'agentId' | 'kind' | 'trigger'
> {
  /** Defaults to now: start as soon as the plan arrives. */
  startAt?: number;
  notAfter?: number | null;
}

/** A new session waits for its plan; an onboarding session stays in the onboarding stage until then. */
export function createSession(input: NewSession, now: number): SessionTransition {
  const session: MaintenanceSession = {
    id: input.id,
    tenantId: input.tenantId,
    computerId: input.computerId,
    agentId: input.agentId,
    kind: input.kind,
    trigger: input.trigger,
    stage: input.kind === 'onboarding' ? 'onboarding' : 'detection',
    status: 'created',
    version: 1,
    createdAt: now,
    startAt: input.startAt ?? now,
    notAfter: input.notAfter ?? null,
    executionStarted: false,
    finishedAt: null,
    reason: null,
    actions: [],
  };
  const event = {
    type: 'session-updated' as const,
    sessionId: session.id,
    version: 1,
    status: session.status,
    previousStatus: null,
    stage: session.stage,
    reason: null,
  };
  return { session, commands: [], events: [event] };
}

/**
 * The state machine: `(session, event, now) -> { session, commands, events }`. Pure and deterministic; the
 * caller stores the session (guarded by its version), then sends its commands and events. An event that changes
 * nothing returns the same session object and nothing to send.
 */
export function applySessionEvent(
  session: MaintenanceSession,
  event: SessionEvent,
  now: number,
): SessionTransition {
  const work = startWork(session, now);
  switch (event.type) {
    case 'plan-received':
      receivePlan(work, event.items);
      break;
    case 'plan-failed':
      if (work.session.status === 'created') {
        work.session.stage = 'report';
        work.session.finishedAt = now;
        setStatus(work, 'failed', event.reason);
      }
      break;
    case 'agent-connected':
      resumeAfterReconnect(work);
      break;
    case 'agent-offline':
      if (work.session.status === 'running') setStatus(work, 'pending-connectivity', 'agent offline');
      break;
    case 'command-result':
      receiveResult(work, event);
      break;
    case 'output-chunk':
      receiveOutput(work, event.commandId, event.seq, event.data);
      break;
    case 'postpone-requested':
      if (work.session.status === 'pending' || work.session.status === 'postponed') {
        work.session.startAt = event.until;
        setStatus(work, 'postponed', 'postponed');
        work.changed = true;
      }
      break;
    case 'cancel-requested':
      if (!isFinal(work.session.status)) stop(work, 'cancelled', event.reason);
      break;
    case 'timeout-tick':
      onTick(work);
      break;
  }
  return finishWork(work);
}

function isFinal(status: SessionStatus): boolean {
  return finalSessionStatuses.includes(status);
}

function setStatus(work: SessionWork, status: SessionStatus, reason: string | null): void {
  if (work.session.status === status && work.session.reason === reason) return;
  work.session.status = status;
  work.session.reason = reason;
  work.changed = true;
}

/** Only a session still waiting for its plan takes one: a redelivered plan is a duplicate. */
function receivePlan(work: SessionWork, items: readonly PlannedItem[]): void {
  if (work.session.status !== 'created') return;
  validatePlan(items);
  work.session.actions = items.map(newAction);
  work.session.stage = 'detection';
  work.changed = true;
  if (work.now >= work.session.startAt) start(work);
  else setStatus(work, 'pending', null);
}

function newAction(item: PlannedItem): MaintenanceAction {
  return {
    id: item.id,
    item,
    type: item.kind === 'task' ? taskActionTypes[item.mode] : null,
    status: 'not-started',
    result: null,
    reason: null,
    detected: null,
    desired: desiredValue(item),
    commands: [],
    logLines: 0,
  };
}

const taskActionTypes = {
  enforce: 'task-enforce',
  audit: 'task-audit',
  monitor: 'task-monitor',
} as const satisfies Record<string, ActionType>;

function desiredValue(item: PlannedItem): string | null {
  if (item.kind === 'task') return item.mode === 'monitor' ? null : 'true';
  return 'version' in item.desiredState ? item.desiredState.version : null;
}

/** Detection runs every read-only step at once; execution then goes one action at a time in plan order. */
function start(work: SessionWork): void {
  setStatus(work, 'running', null);
  work.session.stage = 'detection';
  for (let index = 0; index < work.session.actions.length; index++) startDetection(work, index);
  advance(work);
}

function hasOutstandingCommand(session: MaintenanceSession): boolean {
  return session.actions.some((action) =>
    action.commands.some((command) => command.state === 'in-flight' || command.state === 'undelivered'),
  );
}

/** Moves a running session on once nothing is outstanding: next stage, next action, or the report. */
function advance(work: SessionWork): void {
  const { session } = work;
  if (session.status !== 'running' || hasOutstandingCommand(session)) return;
  if (session.stage === 'detection' && session.kind === 'detection-only') {
    session.actions.forEach((action, index) => {
      if (action.status === 'not-started' || action.status === 'waiting-for-prerequisite') {
        settleAction(work, index, 'success', `detection only: ${action.type ?? 'action'} not run`, 'skipped');
      }
    });
    report(work);
    return;
  }
  for (let index = 0; index < session.actions.length; index++) {
    const action = session.actions[index];
    if (action === undefined) continue;
    if (action.status !== 'not-started' && action.status !== 'waiting-for-prerequisite') continue;
    const failed = action.item.prerequisites
      .map((id) => session.actions.find((candidate) => candidate.id === id))
      .find((prerequisite) => prerequisite?.result !== 'success');
    if (failed !== undefined) {
      const name = failed.item.name;
      settleAction(work, index, 'failed', `skipped: prerequisite ${name} did not succeed`, 'skipped');
      continue;
    }
    startExecution(work, index);
    return;
  }
  report(work);
}

function report(work: SessionWork): void {
  work.session.stage = 'report';
  work.session.finishedAt = work.now;
  setStatus(work, finishedSessionStatus(work.session.actions), null);
}

/**
 * The agent is back: every command it may not have run is sent again under the SAME id. The agent keeps the
 * ids it has seen, so a command it did receive is not run twice: it answers with the stored result if it
 * finished, or with nothing more if it is still running (its result will follow).
 */
function resumeAfterReconnect(work: SessionWork): void {
  if (work.session.status !== 'pending-connectivity') return;
  setStatus(work, 'running', null);
  work.session.actions.forEach((action, actionIndex) => {
    action.commands.forEach((command, commandIndex) => {
      if (command.state !== 'in-flight' && command.state !== 'undelivered') return;
      const { timeoutSeconds } = action.item;
      updateCommand(work, actionIndex, commandIndex, {
        state: 'in-flight',
        sentAt: work.now,
        deadlineAt: work.now + timeoutSeconds * 1000 + resultGraceMs,
      });
      work.commands.push(runScript(work.session.agentId, action, command.id, command.step, command.scriptId));
    });
  });
  advance(work);
}

function receiveResult(work: SessionWork, result: CommandResult): void {
  const location = findCommand(work.session, result.commandId);
  if (location === null) return;
  const { actionIndex, commandIndex } = location;
  const command = work.session.actions[actionIndex]?.commands[commandIndex];
  if (command === undefined || command.state === 'answered') return;
  if (command.state === 'abandoned') {
    // The session stopped waiting (cancelled, missed or past the deadline): keep what happened, act on nothing.
    updateCommand(work, actionIndex, commandIndex, { ...resultFields(result), state: 'answered' });
    const exit = result.exitCode === null ? '' : ` (exit code ${result.exitCode})`;
    appendLog(work, actionIndex, command.id, `late result ignored: ${command.step} ${result.outcome}${exit}`);
    return;
  }
  if (result.outcome === 'undeliverable') {
    if (command.state === 'undelivered') return;
    updateCommand(work, actionIndex, commandIndex, { state: 'undelivered' });
    if (work.session.status === 'running') setStatus(work, 'pending-connectivity', 'agent offline');
    return;
  }
  updateCommand(work, actionIndex, commandIndex, { ...resultFields(result), state: 'answered' });
  applyStepResult(work, actionIndex, command.step, result);
  advance(work);
}

function resultFields(result: CommandResult): {
  outcome: CommandResult['outcome'];
  exitCode: number | null;
  lastLine: string | null;
} {
  return { outcome: result.outcome, exitCode: result.exitCode, lastLine: result.lastLine };
}

/** Chunks of one command arrive in order (one Kafka key), so a sequence number already seen is a redelivery. */
function receiveOutput(work: SessionWork, id: string, seq: number, data: string): void {
  const location = findCommand(work.session, id);
  if (location === null) return;
  const { actionIndex, commandIndex } = location;
  const command = work.session.actions[actionIndex]?.commands[commandIndex];
  if (command === undefined || seq <= command.lastChunkSeq) return;
  updateCommand(work, actionIndex, commandIndex, { lastChunkSeq: seq });
  for (const line of data.split(/\r?\n/)) {
    if (line.trim() !== '') appendLog(work, actionIndex, id, line);
  }
}

function onTick(work: SessionWork): void {
  const { session, now } = work;
  if (isFinal(session.status)) return;
  const waiting = session.status !== 'running';
  if (waiting && session.notAfter !== null && now > session.notAfter && !session.executionStarted) {
    stop(work, 'missed', 'maintenance window passed before the session could run');
    return;
  }
  if ((session.status === 'pending' || session.status === 'postponed') && now >= session.startAt) {
    start(work);
    return;
  }
  if (session.status === 'running') expireOverdueCommands(work);
}

/** A command with no result by its deadline is given up (the agent is told to stop) and counts as timed out. */
function expireOverdueCommands(work: SessionWork): void {
  const overdue: { actionIndex: number; commandIndex: number }[] = [];
  work.session.actions.forEach((action, actionIndex) => {
    action.commands.forEach((command, commandIndex) => {
      if (command.state === 'in-flight' && command.deadlineAt <= work.now)
        overdue.push({ actionIndex, commandIndex });
    });
  });
  for (const { actionIndex, commandIndex } of overdue) {
    const command = updateCommand(work, actionIndex, commandIndex, {
      state: 'abandoned',
      outcome: 'timed-out',
    });
    work.commands.push({ type: 'cancel-command', commandId: command.id, agentId: work.session.agentId });
    appendLog(
      work,
      actionIndex,
      command.id,
      `no result from the agent by the deadline: ${command.step} given up`,
    );
    applyStepResult(work, actionIndex, command.step, {
      commandId: command.id,
      outcome: 'timed-out',
      exitCode: null,
      lastLine: null,
    });
  }
  if (overdue.length > 0) advance(work);
}

/** Cancelled or missed: stop waiting for every outstanding command and close every unfinished action. */
function stop(work: SessionWork, status: 'cancelled' | 'missed', reason: string): void {
  work.session.actions.forEach((action, actionIndex) => {
    action.commands.forEach((command, commandIndex) => {
      if (command.state !== 'in-flight' && command.state !== 'undelivered') return;
      updateCommand(work, actionIndex, commandIndex, { state: 'abandoned' });
      // An undelivered command never reached the agent, so there is nothing to stop there.
      if (command.state === 'in-flight') {
        work.commands.push({ type: 'cancel-command', commandId: command.id, agentId: work.session.agentId });
      }
    });
    if (action.status === 'running') settleAction(work, actionIndex, 'cancelled', `session ${status}`);
    else if (action.status === 'not-started' || action.status === 'waiting-for-prerequisite') {
      settleAction(work, actionIndex, 'cancelled', `session ${status}`, 'skipped');
    }
  });
  work.session.stage = 'report';
  work.session.finishedAt = work.now;
  setStatus(work, status, reason);
}

/**
 * When the session next needs a `timeout-tick` (or, while `created`, its plan), or null when only an outside
 * event can move it. The caller stores it so that a ticker finds due sessions with one indexed query.
 */
export function sessionWakeAt(session: MaintenanceSession): number | null {
  const { status, notAfter } = session;
  if (isFinal(status)) return null;
  const missAt = notAfter !== null && !session.executionStarted ? notAfter + 1 : null;
  const earliest = (...times: (number | null)[]): number | null => {
    const known = times.filter((time): time is number => time !== null);
    return known.length === 0 ? null : Math.min(...known);
  };
  switch (status) {
    case 'created':
      return session.createdAt;
    case 'pending':
    case 'postponed':
      return earliest(session.startAt, missAt);
    case 'running': {
      const deadlines = session.actions.flatMap((action) =>
        action.commands
          .filter((command) => command.state === 'in-flight')
          .map((command) => command.deadlineAt),
      );
      return earliest(...deadlines);
    }
    default:
      return missAt;
  }
}
