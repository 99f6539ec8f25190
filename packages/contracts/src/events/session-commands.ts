import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { id, ownerReply, timestamp } from './fields.ts';
import { sessionKinds } from './session-events.ts';

/*
 * What changes a maintenance session, sent to the session's owner on `sessions.session-commands`, keyed by session
 * id (docs/architecture.md §9). Internal to the sessions service: its REST handlers, schedules and routers send
 * them; the owner of the session's partition applies them.
 */

export const sessionTriggers = ['technician', 'api', 'schedule', 'onboarding'] as const;
export type SessionTrigger = (typeof sessionTriggers)[number];

export const sessionStartRequestedSchema = z.object({
  sessionId: id,
  tenantId: id,
  computerId: id,
  agentId: id,
  kind: z.enum(sessionKinds),
  trigger: z.enum(sessionTriggers),
  maintenanceItemId: id.nullable(),
  scheduleId: id.nullable(),
  /** When the session may start (schedules defer it); null: as soon as its plan arrives. */
  startAt: timestamp.nullable(),
  /** End of the maintenance window; null: none. */
  notAfter: timestamp.nullable(),
  requestedAt: timestamp,
  reply: ownerReply,
});
export type SessionStartRequested = z.infer<typeof sessionStartRequestedSchema>;
export const sessionStartRequested = defineEvent(
  'converge.session.start-requested.v1',
  topics.sessionCommands,
  sessionStartRequestedSchema,
);

export const sessionCancelRequestedSchema = z.object({
  sessionId: id,
  reason: z.string().min(1).max(1024),
  requestedAt: timestamp,
  reply: ownerReply,
});
export type SessionCancelRequested = z.infer<typeof sessionCancelRequestedSchema>;
export const sessionCancelRequested = defineEvent(
  'converge.session.cancel-requested.v1',
  topics.sessionCommands,
  sessionCancelRequestedSchema,
);

/** The session's agent connected or went away (a gateway connection epoch), routed from the gateway's events. */
export const sessionAgentConnectivityChangedSchema = z.object({
  sessionId: id,
  agentId: id,
  online: z.boolean(),
  epoch: z.number().int().min(0),
  at: timestamp,
});
export type SessionAgentConnectivityChanged = z.infer<typeof sessionAgentConnectivityChangedSchema>;
export const sessionAgentConnectivityChanged = defineEvent(
  'converge.session.agent-connectivity-changed.v1',
  topics.sessionCommands,
  sessionAgentConnectivityChangedSchema,
);
