import type { ActionResult, ActionStep, CommandResult, MaintenanceAction } from './maintenance-session.ts';
import { decideSoftwareAction, isDesiredStateReached } from './software-desired-state.ts';
import { actionFor, sendScript, settleAction } from './session-work.ts';
import type { SessionWork } from './session-work.ts';
import { parseVersion } from '@converge/versions';

/**
 * Starts an action's detection: the read-only step that needs no prerequisite. Software runs its detection
 * script, enforce and audit tasks their test, monitor tasks their get. Ignored software runs nothing.
 */
export function startDetection(work: SessionWork, index: number): void {
  const action = actionFor(work, index);
  const { item } = action;
  if (item.kind === 'software') {
    if (item.desiredState.state === 'ignored') {
      action.type = 'no-action';
      settleAction(work, index, 'success', 'ignored by its deployment');
      return;
    }
    sendScript(work, index, 'detect', item.scripts.detect);
    return;
  }
  switch (item.mode) {
    case 'enforce':
      sendScript(work, index, 'test', item.scripts.test);
      return;
    case 'audit':
      sendScript(work, index, 'test', item.scripts.test);
      return;
    case 'monitor':
      sendScript(work, index, 'get', item.scripts.get);
      return;
  }
}

/** Sends the first execution step of an action that detection found needing a change. */
export function startExecution(work: SessionWork, index: number): void {
  const action = actionFor(work, index);
  const { item } = action;
  work.session.stage = 'execution';
  work.session.executionStarted = true;
  if (item.kind === 'task') {
    if (item.mode === 'enforce') sendScript(work, index, 'set', item.scripts.set);
    return;
  }
  switch (action.type) {
    case 'install':
      sendScript(work, index, 'install', item.scripts.install);
      return;
    case 'update':
      sendScript(work, index, 'update', item.scripts.update ?? item.scripts.install);
      return;
    // Downgrade and reinstall remove the installed version first, as most installers refuse to go back.
    case 'downgrade':
    case 'reinstall':
    case 'uninstall':
      sendScript(work, index, 'uninstall', item.scripts.uninstall);
      return;
    default:
      return;
  }
}

interface Settlement {
  result: ActionResult;
  reason: string;
}

/**
 * Applies the first result of one of an action's commands: either the action is settled, or its next step is
 * sent (or it waits for its turn in execution). A script succeeds when it completed with exit code 0; its last
 * output line is the value it detected.
 */
export function applyStepResult(
  work: SessionWork,
  index: number,
  step: ActionStep,
  result: CommandResult,
): void {
  const settlement = nextAfterStep(work, index, step, result);
  if (settlement !== null) settleAction(work, index, settlement.result, settlement.reason);
}

function nextAfterStep(
  work: SessionWork,
  index: number,
  step: ActionStep,
  result: CommandResult,
): Settlement | null {
  if (result.outcome === 'cancelled')
    return { result: 'cancelled', reason: `${step} was cancelled on the agent` };
  const failure = describeFailure(step, result);
  const value = result.lastLine?.trim() ?? '';
  switch (step) {
    case 'detect':
    case 'verify':
      if (failure !== null) return { result: 'indeterminable', reason: failure };
      return applyDetectedVersion(work, index, step, value);
    case 'test':
    case 'retest':
      if (failure !== null) return { result: 'indeterminable', reason: failure };
      return applyTestValue(work, index, step, value);
    case 'get':
      if (failure !== null) return { result: 'failed', reason: failure };
      actionFor(work, index).detected = value;
      return { result: 'success', reason: 'value collected' };
    case 'install':
    case 'update':
    case 'uninstall':
    case 'set':
      if (failure !== null) return { result: 'failed', reason: failure };
      continueExecution(work, index, step);
      return null;
  }
}

function applyTestValue(
  work: SessionWork,
  index: number,
  step: 'test' | 'retest',
  value: string,
): Settlement | null {
  const action = actionFor(work, index);
  const compliant = parseBoolean(value);
  if (compliant === null)
    return { result: 'indeterminable', reason: `${step} returned '${value}', not true or false` };
  action.detected = String(compliant);
  if (compliant) return { result: 'success', reason: 'compliant' };
  if (step === 'retest') return { result: 'failed', reason: 'still not compliant after set' };
  if (action.type === 'task-audit') return { result: 'failed', reason: 'not compliant' };
  awaitExecution(action);
  return null;
}

function applyDetectedVersion(
  work: SessionWork,
  index: number,
  step: 'detect' | 'verify',
  value: string,
): Settlement | null {
  const action = actionFor(work, index);
  const { item } = action;
  if (item.kind !== 'software') return null;
  const detected = value === '' ? null : parseVersion(value);
  if (value !== '' && detected === null) {
    return { result: 'indeterminable', reason: `${step} returned '${value}', not a version` };
  }
  action.detected = value === '' ? null : value;
  if (step === 'verify') {
    if (isDesiredStateReached(item.desiredState, detected))
      return { result: 'success', reason: 'desired state reached' };
    const found = action.detected ?? 'absent';
    const wanted = action.desired ?? 'absent';
    return { result: 'failed', reason: `desired state not reached: detected ${found}, desired ${wanted}` };
  }
  action.type = decideSoftwareAction(item.desiredState, detected, item.forceReinstall === true);
  if (action.type === 'no-action') return { result: 'success', reason: 'already in its desired state' };
  awaitExecution(action);
  return null;
}

/** Waiting for prerequisite marks, from detection on, every action needing a change that has any prerequisite. */
function awaitExecution(action: MaintenanceAction): void {
  action.status = action.item.prerequisites.length > 0 ? 'waiting-for-prerequisite' : 'not-started';
}

function continueExecution(
  work: SessionWork,
  index: number,
  step: 'install' | 'update' | 'uninstall' | 'set',
): void {
  const action = actionFor(work, index);
  const { item } = action;
  if (item.kind === 'task') {
    if (item.mode !== 'enforce') return;
    work.session.stage = 'verification';
    sendScript(work, index, 'retest', item.scripts.test);
    return;
  }
  if (step === 'uninstall' && (action.type === 'downgrade' || action.type === 'reinstall')) {
    sendScript(work, index, 'install', item.scripts.install);
    return;
  }
  work.session.stage = 'verification';
  sendScript(work, index, 'verify', item.scripts.detect);
}

function describeFailure(step: string, result: CommandResult): string | null {
  switch (result.outcome) {
    case 'completed':
      return result.exitCode === 0 ? null : `${step} failed with exit code ${result.exitCode ?? 'unknown'}`;
    case 'timed-out':
      return `${step} timed out`;
    case 'failed-to-start':
      return `${step} could not start`;
    case 'undeliverable':
      return `${step} could not be delivered`;
    case 'cancelled':
      return `${step} was cancelled on the agent`;
  }
}

function parseBoolean(value: string): boolean | null {
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return null;
}
