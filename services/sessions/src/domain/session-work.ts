import type {
  ActionResult,
  ActionStep,
  AgentCommand,
  CommandRecord,
  MaintenanceAction,
  MaintenanceSession,
  PublishedSessionEvent,
  SessionTransition,
} from './maintenance-session.ts';

/**
 * One transition's working copy. The input session is never mutated: the session object and each action are
 * copied the first time a transition touches them, so untouched actions are shared with the previous state
 * (cheap enough to run a million times) and a caller may keep the old state for comparison.
 */
export interface SessionWork {
  readonly before: MaintenanceSession;
  readonly session: MaintenanceSession;
  readonly now: number;
  readonly commands: AgentCommand[];
  readonly logLines: PublishedSessionEvent[];
  readonly touched: Set<number>;
  changed: boolean;
}

/** Log lines kept per action (the most recent ones): enough to explain a failure, bounded for a chatty script. */
export const maxLogLinesPerAction = 200;
const maxLogLineLength = 2000;

/** The sequence number of the words that close a command's output (why it did not run to an exit): after any chunk. */
export const finalWordsSeq = 2 ** 31;

/** Time the agent gets beyond a script's own timeout to report it, before the session gives up waiting. */
export const resultGraceMs = 60_000;

export function startWork(before: MaintenanceSession, now: number): SessionWork {
  return {
    before,
    session: { ...before, actions: before.actions.slice() },
    now,
    commands: [],
    logLines: [],
    touched: new Set(),
    changed: false,
  };
}

/** The action at `index`, copied for writing on first use. */
export function actionFor(work: SessionWork, index: number): MaintenanceAction {
  const current = work.session.actions[index];
  if (current === undefined) throw new RangeError(`no action at ${index}`);
  if (work.touched.has(index)) return current;
  const copy = { ...current, commands: current.commands.slice() };
  work.session.actions[index] = copy;
  work.touched.add(index);
  work.changed = true;
  return copy;
}

export function commandId(sessionId: string, actionId: string, step: ActionStep): string {
  return `${sessionId}:${actionId}:${step}`;
}

export function findCommand(
  session: MaintenanceSession,
  id: string,
): { actionIndex: number; commandIndex: number } | null {
  for (let actionIndex = 0; actionIndex < session.actions.length; actionIndex++) {
    const commands = session.actions[actionIndex]?.commands ?? [];
    for (let commandIndex = 0; commandIndex < commands.length; commandIndex++) {
      if (commands[commandIndex]?.id === id) return { actionIndex, commandIndex };
    }
  }
  return null;
}

/** Replaces a command record (records are never edited in place). */
export function updateCommand(
  work: SessionWork,
  actionIndex: number,
  commandIndex: number,
  change: Partial<CommandRecord>,
): CommandRecord {
  const action = actionFor(work, actionIndex);
  const current = action.commands[commandIndex];
  if (current === undefined) throw new RangeError(`no command at ${commandIndex}`);
  const updated = { ...current, ...change };
  action.commands[commandIndex] = updated;
  return updated;
}

export function sendScript(work: SessionWork, actionIndex: number, step: ActionStep, scriptId: string): void {
  const action = actionFor(work, actionIndex);
  const id = commandId(work.session.id, action.id, step);
  const { item } = action;
  action.commands.push({
    id,
    step,
    scriptId,
    state: 'in-flight',
    sentAt: work.now,
    deadlineAt: work.now + item.timeoutSeconds * 1000 + resultGraceMs,
    outcome: null,
    exitCode: null,
    lastLine: null,
    lastChunkSeq: -1,
  });
  action.status = 'running';
  work.commands.push(runScript(work.session.agentId, action, id, step, scriptId));
}

/**
 * Install and update steps are told which version to install; every step gets the deployment's parameters, its
 * secrets still sealed.
 */
export function runScript(
  agentId: string,
  action: MaintenanceAction,
  id: string,
  step: ActionStep,
  scriptId: string,
): AgentCommand {
  const { item } = action;
  const parameters =
    item.kind === 'software' && 'version' in item.desiredState && (step === 'install' || step === 'update')
      ? { ...item.parameters, version: item.desiredState.version }
      : item.parameters;
  return {
    type: 'run-script',
    commandId: id,
    agentId,
    actionId: action.id,
    step,
    scriptId,
    parameters,
    ...(item.sealedParameters === undefined ? {} : { sealedParameters: item.sealedParameters }),
    timeoutSeconds: item.timeoutSeconds,
  };
}

export function settleAction(
  work: SessionWork,
  actionIndex: number,
  result: ActionResult,
  reason: string,
  status: 'done' | 'skipped' = 'done',
): void {
  const action = actionFor(work, actionIndex);
  action.status = status;
  action.result = result;
  action.reason = reason;
}

export function appendLog(work: SessionWork, actionIndex: number, commandId: string, text: string): void {
  const action = actionFor(work, actionIndex);
  const line = text.length > maxLogLineLength ? `${text.slice(0, maxLogLineLength)}…` : text;
  work.logLines.push({
    type: 'log-line',
    sessionId: work.session.id,
    version: work.before.version + 1,
    actionId: action.id,
    commandId,
    line,
    index: action.logLines,
  });
  action.logLines++;
}

/**
 * Ends the transition: an unchanged session comes back as the same object with nothing to send or publish;
 * otherwise the version goes up by one and every visible change is published with it.
 */
export function finishWork(work: SessionWork): SessionTransition {
  const { before, session } = work;
  if (!work.changed && work.commands.length === 0 && work.logLines.length === 0) {
    return { session: before, commands: [], events: [] };
  }
  session.version = before.version + 1;
  const events: PublishedSessionEvent[] = [...work.logLines];
  for (const index of [...work.touched].sort((a, b) => a - b)) {
    const after = session.actions[index];
    const previous = before.actions[index];
    if (after === undefined) continue;
    const visible =
      previous === undefined ||
      previous.type !== after.type ||
      previous.status !== after.status ||
      previous.result !== after.result ||
      previous.reason !== after.reason ||
      previous.detected !== after.detected ||
      previous.desired !== after.desired;
    if (!visible) continue;
    events.push({
      type: 'action-updated',
      sessionId: session.id,
      version: session.version,
      actionId: after.id,
      actionType: after.type,
      status: after.status,
      result: after.result,
      reason: after.reason,
      detected: after.detected,
      desired: after.desired,
    });
  }
  if (session.status !== before.status || session.stage !== before.stage) {
    events.push({
      type: 'session-updated',
      sessionId: session.id,
      version: session.version,
      status: session.status,
      previousStatus: before.status,
      stage: session.stage,
      reason: session.reason,
    });
  }
  return { session, commands: work.commands, events };
}
