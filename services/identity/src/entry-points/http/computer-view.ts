import type { ComputerDocument } from '../../data-access/computer.schema.ts';
import type { IdentificationFailureDocument } from '../../data-access/identification-failure.repository.ts';
import type { PendingDecisionDocument } from '../../data-access/pending-decision.repository.ts';

const dayMs = 24 * 60 * 60 * 1000;

/** A computer as the list shows it. Stale: offline for longer than the configured days. */
export function computerView(doc: ComputerDocument, now: Date, staleAfterDays: number) {
  return {
    id: doc._id,
    tenantId: doc.tenantId,
    version: doc.version,
    name: doc.displayName,
    hostname: doc.hostname,
    hardwareUuid: doc.hardwareUuid,
    serialNumber: doc.serialNumber,
    manufacturer: doc.manufacturer,
    os: doc.os,
    osVersion: doc.osVersion,
    deviceType: doc.deviceType,
    onboardingStatus: doc.onboardingStatus,
    online: doc.online,
    stale: !doc.online && now.getTime() - doc.lastSeenAt.getTime() > staleAfterDays * dayMs,
    lastSeenAt: doc.lastSeenAt.toISOString(),
    agents: doc.agents.map((agent) => ({ ...agent, online: doc.onlineAgentIds.includes(agent.agentId) })),
    tags: doc.tags,
    primaryPersonId: doc.primaryPersonId,
    excludedFromMaintenance: doc.excludedFromMaintenance,
    deletedAt: doc.deletedAt?.toISOString() ?? null,
  };
}

/** One computer with what its page shows besides: notes, affinity and identification history. */
export function computerDetailsView(doc: ComputerDocument, now: Date, staleAfterDays: number) {
  return {
    ...computerView(doc, now, staleAfterDays),
    notes: doc.notes,
    osInstallId: doc.osInstallId,
    personIds: doc.personIds,
    affinity: doc.affinity,
    history: doc.history.map((entry) => ({ ...entry, at: entry.at.toISOString() })),
  };
}

export function pendingDecisionView(doc: PendingDecisionDocument) {
  return {
    agentId: doc._id,
    tenantId: doc.tenantId,
    provider: doc.facts.provider,
    reason: doc.reason,
    matchedBy: doc.matchedBy,
    hostname: doc.facts.hostname,
    hardwareUuid: doc.facts.hardwareUuid,
    serialNumber: doc.facts.serialNumber,
    candidates: doc.candidates,
    createdAt: doc.createdAt.toISOString(),
  };
}

export function failureView(doc: IdentificationFailureDocument) {
  return {
    agentId: doc._id,
    tenantId: doc.tenantId,
    provider: doc.facts.provider,
    hostname: doc.facts.hostname,
    hardwareUuid: doc.facts.hardwareUuid,
    serialNumber: doc.facts.serialNumber,
    manufacturer: doc.facts.manufacturer,
    failure: doc.failure,
    attempts: doc.attempts,
    firstFailedAt: doc.firstFailedAt.toISOString(),
    lastFailedAt: doc.lastFailedAt.toISOString(),
  };
}
