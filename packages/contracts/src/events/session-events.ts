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

/** Session events are keyed by session id and carry the session's version. */
export const sessionStatusChangedSchema = z.object({
  sessionId: id,
  computerId: id,
  tenantId: id,
  version: aggregateVersion,
  status: z.enum(sessionStatuses),
  previousStatus: z.enum(sessionStatuses).nullable(),
  reason: z.string().max(1024).optional(),
  changedAt: timestamp,
});
export type SessionStatusChanged = z.infer<typeof sessionStatusChangedSchema>;
export const sessionStatusChanged = defineEvent(
  'converge.session.status-changed.v1',
  topics.sessionEvents,
  sessionStatusChangedSchema,
);
