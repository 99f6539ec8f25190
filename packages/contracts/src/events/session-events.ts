import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { aggregateVersion, id, timestamp } from './fields.ts';

/** A maintenance session's status; its stage (detection, execution, verification) is reported apart. */
export const sessionStatuses = [
  'created',
  'pending',
  'pending-connectivity',
  'running',
  'passed',
  'partially-passed',
  'failed',
  'cancelled',
  'postponed',
  'missed',
] as const;
export type SessionStatus = (typeof sessionStatuses)[number];

export const sessionKinds = ['onboarding', 'full', 'single-item', 'detection-only'] as const;
export type SessionKind = (typeof sessionKinds)[number];

export const sessionStages = ['onboarding', 'detection', 'execution', 'verification', 'report'] as const;
export type SessionStage = (typeof sessionStages)[number];

const sessionRef = {
  sessionId: id,
  computerId: id,
  tenantId: id,
  version: aggregateVersion,
};

/** Session events are keyed by session id and carry the session's version. */
export const sessionStatusChangedSchema = z.object({
  ...sessionRef,
  status: z.enum(sessionStatuses),
  previousStatus: z.enum(sessionStatuses).nullable(),
  reason: z.string().max(1024).optional(),
  /** Added after v1 went out: optional so that earlier events still parse. */
  kind: z.enum(sessionKinds).optional(),
  stage: z.enum(sessionStages).optional(),
  changedAt: timestamp,
});
export type SessionStatusChanged = z.infer<typeof sessionStatusChangedSchema>;
export const sessionStatusChanged = defineEvent(
  'converge.session.status-changed.v1',
  topics.sessionEvents,
  sessionStatusChangedSchema,
);

export const actionTypes = [
  'install',
  'update',
  'downgrade',
  'reinstall',
  'uninstall',
  'no-action',
  'task-enforce',
  'task-audit',
  'task-monitor',
] as const;
export type ActionType = (typeof actionTypes)[number];

export const actionStatuses = [
  'not-started',
  'waiting-for-prerequisite',
  'running',
  'done',
  'skipped',
] as const;
export type ActionStatus = (typeof actionStatuses)[number];

/** Whether the maintenance item is in its desired state after the session (failed: no; indeterminable: unknown). */
export const actionResults = ['success', 'failed', 'cancelled', 'indeterminable'] as const;
export type ActionResult = (typeof actionResults)[number];

/** One maintenance action of a session changed what a technician sees (type, status, result, values). */
export const sessionActionUpdatedSchema = z.object({
  ...sessionRef,
  actionId: id,
  actionType: z.enum(actionTypes).nullable(),
  status: z.enum(actionStatuses),
  result: z.enum(actionResults).nullable(),
  reason: z.string().max(1024).nullable(),
  detected: z.string().max(4096).nullable(),
  desired: z.string().max(4096).nullable(),
  changedAt: timestamp,
});
export type SessionActionUpdated = z.infer<typeof sessionActionUpdatedSchema>;
export const sessionActionUpdated = defineEvent(
  'converge.session.action-updated.v1',
  topics.sessionEvents,
  sessionActionUpdatedSchema,
);

/** A line of a script's output (or of the session's own narration) for an action, for live views. */
export const sessionLogLineSchema = z.object({
  ...sessionRef,
  actionId: id,
  commandId: id,
  line: z.string().max(4096),
  /** The line's number within its action's log, from 0; added after v1 went out, so optional. */
  index: z.number().int().min(0).optional(),
  loggedAt: timestamp,
});
export type SessionLogLine = z.infer<typeof sessionLogLineSchema>;
export const sessionLogLine = defineEvent(
  'converge.session.log-line.v1',
  topics.sessionEvents,
  sessionLogLineSchema,
);
