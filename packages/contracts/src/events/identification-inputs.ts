import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { agentFactsReportedSchema } from './agent-events.ts';
import { id, ownerReply, timestamp } from './fields.ts';

/*
 * What changes computers, sent to the owner of an identity key on `identity.identification-inputs`
 * (docs/architecture.md §9). Internal to the identity service: its router of agent events, its REST handlers and
 * its consumers of session and directory events send them; the owner of the key's partition applies them. The
 * key is the identity key of what the input is about: the canonical hardware UUID, else the trusted serial key,
 * else the agent id of a facts report; the key a known computer is owned under for anything about it.
 */

/** An agent's facts as identification reads them: the gateway's report without the connection it came over. */
export const identificationFactsSchema = agentFactsReportedSchema.omit({
  epoch: true,
  replica: true,
  model: true,
});
export type IdentificationFacts = z.infer<typeof identificationFactsSchema>;

export const computerIdentificationRequestedSchema = z.object({
  facts: identificationFactsSchema,
  /** A technician's retry of a failed identification: failing again counts another attempt. */
  retry: z.boolean(),
  reply: ownerReply,
});
export type ComputerIdentificationRequested = z.infer<typeof computerIdentificationRequestedSchema>;
export const computerIdentificationRequested = defineEvent(
  'converge.computer.identification-requested.v1',
  topics.identificationInputs,
  computerIdentificationRequestedSchema,
);

/** An agent connected or went away (a gateway connection epoch): its computer may be online or offline now. */
export const computerAgentPresenceChangedSchema = z.object({
  agentId: id,
  tenantId: id,
  epoch: z.number().int().min(1),
  online: z.boolean(),
  at: timestamp,
});
export type ComputerAgentPresenceChanged = z.infer<typeof computerAgentPresenceChangedSchema>;
export const computerAgentPresenceChanged = defineEvent(
  'converge.computer.agent-presence-changed.v1',
  topics.identificationInputs,
  computerAgentPresenceChangedSchema,
);

export const manualDecisionChoices = ['overwrite-existing', 'keep-both', 'delete-existing'] as const;

/** A technician's answer to the agent's pending decision (needs manual decision). */
export const computerManualDecisionRequestedSchema = z.object({
  agentId: id,
  /** The agent's tenant, as the technician was authorized for it. */
  tenantId: id,
  choice: z.enum(manualDecisionChoices),
  /** The candidate to overwrite or delete; null for keep-both. */
  computerId: id.nullable(),
  /** The candidate's tenant, as the technician was authorized for it; null for keep-both. */
  computerTenantId: id.nullable(),
  requestedAt: timestamp,
  reply: ownerReply,
});
export type ComputerManualDecisionRequested = z.infer<typeof computerManualDecisionRequestedSchema>;
export const computerManualDecisionRequested = defineEvent(
  'converge.computer.manual-decision-requested.v1',
  topics.identificationInputs,
  computerManualDecisionRequestedSchema,
);

const tag = z.string().trim().min(1).max(64);

/** What a technician, an onboarding session or a directory change asks of one computer. */
export const computerChangeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('edit'),
    name: z.string().min(1).max(255).nullable().optional(),
    tags: z.array(tag).max(100).optional(),
    notes: z.string().max(10_000).optional(),
    excludedFromMaintenance: z.boolean().optional(),
    pinnedPrimaryPersonId: id.nullable().optional(),
    excludedFromAffinity: z.boolean().optional(),
  }),
  z.object({ kind: z.literal('delete') }),
  z.object({ kind: z.literal('restore') }),
  z.object({ kind: z.literal('change-tenant'), tenantId: id }),
  /** A technician's reset or skip of onboarding. */
  z.object({ kind: z.literal('onboarding'), command: z.enum(['reset', 'skip']) }),
  /** The computer's onboarding session moved; the moves its onboarding status follows, in order. */
  z.object({
    kind: z.literal('follow-onboarding-session'),
    sessionId: id,
    commands: z
      .array(z.enum(['start', 'complete', 'fail']))
      .min(1)
      .max(3),
  }),
  /** A person of the computer's tenant changed: its primary person and people are derived again. */
  z.object({ kind: z.literal('refresh-affinity'), personId: id }),
]);
export type ComputerChange = z.infer<typeof computerChangeSchema>;

export const computerChangeRequestedSchema = z.object({
  computerId: id,
  /** The computer's tenant as the requester was authorized for it; null for changes the system makes. */
  tenantId: id.nullable(),
  change: computerChangeSchema,
  requestedAt: timestamp,
  reply: ownerReply,
});
export type ComputerChangeRequested = z.infer<typeof computerChangeRequestedSchema>;
export const computerChangeRequested = defineEvent(
  'converge.computer.change-requested.v1',
  topics.identificationInputs,
  computerChangeRequestedSchema,
);
