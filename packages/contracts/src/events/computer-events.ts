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
