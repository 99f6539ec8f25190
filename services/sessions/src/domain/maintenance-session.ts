import {
  actionResults,
  actionStatuses,
  actionTypes,
  sessionKinds,
  sessionStages,
  sessionStatuses,
  sessionTriggers,
  type ActionResult,
  type ActionStatus,
  type ActionType,
  type CommandOutcome,
  type SessionKind,
  type SessionStage,
  type SessionStatus,
  type SessionTrigger,
} from '@converge/contracts';

/**
 * The maintenance session as the sessions service persists it: one plain, JSON-serialisable document per
 * session (no Maps, no Dates: times are epoch milliseconds), changed only by `applySessionEvent`.
 */

// The lists are the wire contract's, so the domain and its events cannot drift apart.
export {
  actionResults,
  actionStatuses,
  actionTypes,
  sessionKinds,
  sessionStages,
  sessionStatuses,
  sessionTriggers,
  type ActionResult,
  type ActionStatus,
  type ActionType,
  type SessionKind,
  type SessionStage,
  type SessionStatus,
  type SessionTrigger,
};

/** Statuses a session never leaves. */
export const finalSessionStatuses: readonly SessionStatus[] = [
  'passed',
  'partially-passed',
  'failed',
  'cancelled',
  'missed',
];

export const softwareDesiredStates = [
  'installed-latest',
  'installed-specific',
  'any',
  'update-if-found',
  'uninstalled',
  'ignored',
] as const;
export type SoftwareDesiredStateName = (typeof softwareDesiredStates)[number];

/** The states that name a version carry it: the catalog's latest (resolved by deployments) or the pinned one. */
export type SoftwareDesiredState =
  | { state: 'installed-latest' | 'installed-specific' | 'any' | 'update-if-found'; version: string }
  | { state: 'uninstalled' | 'ignored' };

export const taskModes = ['enforce', 'audit', 'monitor'] as const;
export type TaskMode = (typeof taskModes)[number];

interface PlannedItemBase {
  /** The maintenance item's id; it is also the action's id within the session. */
  id: string;
  name: string;
  /** Ids of items earlier in the plan that must succeed before this one may change anything. */
  prerequisites: string[];
  timeoutSeconds: number;
  parameters: Record<string, string>;
  /**
   * Secret parameters as deployments sealed them for the gateway: this service holds no key that opens them and
   * passes them on as they are. Absent when the item has none.
   */
  sealedParameters?: Record<string, string>;
}

export interface PlannedSoftware extends PlannedItemBase {
  kind: 'software';
  desiredState: SoftwareDesiredState;
  /** A technician's request to reinstall software that is already in its desired state. */
  forceReinstall?: boolean;
  scripts: { detect: string; install: string; uninstall: string; update?: string };
}

export type PlannedTask = PlannedItemBase & { kind: 'task' } & (
    | { mode: 'enforce'; scripts: { test: string; set: string } }
    | { mode: 'audit'; scripts: { test: string } }
    | { mode: 'monitor'; scripts: { get: string } }
  );

export type PlannedItem = PlannedSoftware | PlannedTask;

/**
 * One command's life: `in-flight` (sent, deadline running), `undelivered` (the agent was offline; waits for it),
 * `answered` (the agent's result is recorded) or `abandoned` (the session stopped waiting: deadline passed or
 * session cancelled). Only the first result for an in-flight or undelivered command drives the session.
 */
export interface CommandRecord {
  id: string;
  step: ActionStep;
  scriptId: string;
  state: 'in-flight' | 'undelivered' | 'answered' | 'abandoned';
  sentAt: number;
  deadlineAt: number;
  outcome: CommandOutcome | null;
  exitCode: number | null;
  lastLine: string | null;
  /** Highest output chunk sequence number logged, so a redelivered chunk is not logged twice. */
  lastChunkSeq: number;
}

/**
 * The steps a command can perform. Detection steps are read-only (`detect`, `test`, `get`); execution steps
 * change the computer (`install`, `update`, `uninstall`, `set`); verification steps re-detect (`verify`,
 * `retest`). Each step runs at most once per action, so the step names a command uniquely.
 */
export const actionSteps = [
  'detect',
  'test',
  'get',
  'install',
  'update',
  'uninstall',
  'set',
  'verify',
  'retest',
] as const;
export type ActionStep = (typeof actionSteps)[number];

export interface MaintenanceAction {
  id: string;
  item: PlannedItem;
  /** Null until detection decides it for software; known from the mode for tasks. */
  type: ActionType | null;
  status: ActionStatus;
  result: ActionResult | null;
  reason: string | null;
  /** Detected version (null: absent), or the task's test or get value. */
  detected: string | null;
  /** Desired version, or "true" for tasks that test compliance. */
  desired: string | null;
  commands: CommandRecord[];
  /**
   * Lines logged so far. The lines themselves leave the session as log-line events (numbered by `index`), so a
   * chatty script does not grow the session; the service keeps the most recent ones per action.
   */
  logLines: number;
}

export interface MaintenanceSession {
  id: string;
  tenantId: string;
  computerId: string;
  agentId: string;
  kind: SessionKind;
  trigger: SessionTrigger;
  stage: SessionStage;
  status: SessionStatus;
  /** Increases by one with every transition that changes the session; events carry it. */
  version: number;
  createdAt: number;
  /** When the session may start (schedules and postponement defer it). */
  startAt: number;
  /** End of the maintenance window: a session that has changed nothing by then is missed. */
  notAfter: number | null;
  /** True once any execution step was sent: from then on the session finishes rather than being missed. */
  executionStarted: boolean;
  finishedAt: number | null;
  reason: string | null;
  actions: MaintenanceAction[];
}

export interface CommandResult {
  commandId: string;
  outcome: CommandOutcome;
  exitCode: number | null;
  lastLine: string | null;
}

/** What can happen to a session. Times come with `now`, never from inside the domain. */
export type SessionEvent =
  | { type: 'plan-received'; items: PlannedItem[] }
  | { type: 'plan-failed'; reason: string }
  | { type: 'agent-connected' }
  | { type: 'agent-offline' }
  | ({ type: 'command-result' } & CommandResult)
  | { type: 'output-chunk'; commandId: string; seq: number; data: string }
  | { type: 'postpone-requested'; until: number }
  | { type: 'cancel-requested'; reason: string }
  | { type: 'timeout-tick' };

/** Commands for the agent, sent through the gateway keyed by agent id. */
export type AgentCommand =
  | {
      type: 'run-script';
      commandId: string;
      agentId: string;
      actionId: string;
      step: ActionStep;
      scriptId: string;
      parameters: Record<string, string>;
      sealedParameters?: Record<string, string>;
      timeoutSeconds: number;
    }
  | { type: 'cancel-command'; commandId: string; agentId: string };

/** Facts other services learn from `sessions.session-events`, each carrying the session's new version. */
export type PublishedSessionEvent =
  | {
      type: 'session-updated';
      sessionId: string;
      version: number;
      status: SessionStatus;
      previousStatus: SessionStatus | null;
      stage: SessionStage;
      reason: string | null;
    }
  | {
      type: 'action-updated';
      sessionId: string;
      version: number;
      actionId: string;
      actionType: ActionType | null;
      status: ActionStatus;
      result: ActionResult | null;
      reason: string | null;
      detected: string | null;
      desired: string | null;
    }
  | {
      type: 'log-line';
      sessionId: string;
      version: number;
      actionId: string;
      commandId: string;
      line: string;
      /** The line's number within its action's log, from 0. */
      index: number;
    };

export interface SessionTransition {
  session: MaintenanceSession;
  commands: AgentCommand[];
  events: PublishedSessionEvent[];
}
