import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { deviceTypes } from './agent-events.ts';
import { aggregateVersion, id, timestamp } from './fields.ts';

/** Computer events are keyed by computer id and carry the computer's version. */
const computerRef = {
  computerId: id,
  tenantId: id,
  version: aggregateVersion,
};

export const computerIdentifiedSchema = z.object({
  ...computerRef,
  /** The agent (RMM computer) that was identified as a pathway to this computer. */
  agentId: id,
  /** Which fact matched an existing computer, `new` for a computer seen for the first time. */
  matchedBy: z.enum(['hardware-uuid', 'serial-number', 'os-install-id', 'manual-decision', 'new']),
  hostname: z.string().min(1).max(255),
  deviceType: z.enum(deviceTypes),
  identifiedAt: timestamp,
});
export type ComputerIdentified = z.infer<typeof computerIdentifiedSchema>;
export const computerIdentified = defineEvent(
  'converge.computer.identified.v1',
  topics.computerEvents,
  computerIdentifiedSchema,
);

export const onboardingStatuses = ['needs-onboarding', 'onboarding', 'onboarded', 'failed'] as const;
export type OnboardingStatus = (typeof onboardingStatuses)[number];

export const computerOnboardingStatusChangedSchema = z.object({
  ...computerRef,
  status: z.enum(onboardingStatuses),
  previousStatus: z.enum(onboardingStatuses).nullable(),
  reason: z.string().max(1024).optional(),
  changedAt: timestamp,
});
export type ComputerOnboardingStatusChanged = z.infer<typeof computerOnboardingStatusChangedSchema>;
export const computerOnboardingStatusChanged = defineEvent(
  'converge.computer.onboarding-status-changed.v1',
  topics.computerEvents,
  computerOnboardingStatusChangedSchema,
);

/**
 * The whole computer as technicians and deployments see it, published on every change (identification,
 * fields, onboarding, affinity), so projections in other services need no earlier event to build their row.
 */
export const computerChangedSchema = z.object({
  ...computerRef,
  name: z.string().min(1).max(255),
  deviceType: z.enum(deviceTypes),
  isPrimaryDomainController: z.boolean(),
  os: z.enum(['windows', 'macos', 'linux']).nullable(),
  osVersion: z.string().max(128).nullable(),
  serialNumber: z.string().max(256).nullable(),
  tags: z.array(z.string().trim().min(1).max(64)).max(100),
  primaryPersonId: id.nullable(),
  /** Everyone affinity has seen using the computer. */
  personIds: z.array(id).max(10),
  excludedFromMaintenance: z.boolean(),
  onboardingStatus: z.enum(onboardingStatuses),
  /** The agents (pathways) through which the computer is reached. */
  agentIds: z.array(id).max(20),
  /** Set when the computer was deleted (soft: it can be restored with its history). */
  deletedAt: timestamp.nullable(),
  changedAt: timestamp,
});
export type ComputerChanged = z.infer<typeof computerChangedSchema>;
export const computerChanged = defineEvent(
  'converge.computer.changed.v1',
  topics.computerEvents,
  computerChangedSchema,
);
