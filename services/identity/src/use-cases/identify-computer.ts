import { randomUUID } from 'node:crypto';
import { ConflictError } from '@converge/errors';
import type { AgentFacts } from '../domain/computer.ts';
import { readHardwareUuid, serialKey } from '../domain/hardware-identifiers.ts';
import {
  identifyComputer,
  type IdentificationDecision,
  type IdentificationFailure,
} from '../domain/identification.ts';
import type { ComputerDocument } from '../data-access/computer.schema.ts';
import { DuplicateIdentityError } from '../data-access/computer.repository.ts';
import { lookupKeys } from '../data-access/computer-lookup.repository.ts';
import { domainComputer, lookupKeysOf, stateFrom, writeComputer } from './computer-writer.ts';
import type { IdentityDeps } from './identity-deps.ts';

export type IdentificationOutcome =
  | { kind: 'no-change' | 'refresh-facts' | 'attach-agent' | 'create-computer'; computerId: string }
  | { kind: 'needs-manual-decision' }
  | { kind: 'failed'; failure: IdentificationFailure };

/** A lost race is decided again from fresh state; more than a few in a row means something else is wrong. */
const maxAttempts = 5;

/**
 * Identifies the computer of one facts report and stores the decision. A write that lost a race (another
 * writer changed the computer, or took the identity key first: two agents of one new machine at once) is
 * decided again, and then finds the computer the other writer stored.
 * `retry` marks a technician's retry of a failed report, which records a repeated failure as another attempt.
 */
export async function identifyFromFacts(
  deps: IdentityDeps,
  facts: AgentFacts,
  retry = false,
): Promise<IdentificationOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await identifyOnce(deps, facts, retry);
    } catch (error) {
      if (attempt >= maxAttempts || !(error instanceof ConflictError)) throw error;
      if (error instanceof DuplicateIdentityError) await repairLookups(deps, error.identityKey);
    }
  }
}

/** The key's holder may be missing from the lookups (its writer crashed between the two writes): add it. */
async function repairLookups(deps: IdentityDeps, identityKey: string): Promise<void> {
  const holder = await deps.computers.holderOfIdentityKey(identityKey);
  if (holder !== null) await deps.lookups.add(lookupKeysOf(holder), holder._id);
}

async function knownComputers(deps: IdentityDeps, facts: AgentFacts) {
  const docs = new Map<string, ComputerDocument>();
  const load = async (key: string, belongs: (doc: ComputerDocument) => boolean) => {
    const found: ComputerDocument[] = [];
    for (const id of await deps.lookups.computerIds(key)) {
      const doc = docs.get(id) ?? (await deps.computers.findAnyById(id));
      // Lookups may be stale: only a live computer that still has the identifier counts.
      if (doc === null || doc.deletedAt !== null || !belongs(doc)) continue;
      docs.set(id, doc);
      found.push(doc);
    }
    return found;
  };
  const hasAgent = (doc: ComputerDocument) => doc.agents.some((agent) => agent.agentId === facts.agentId);
  const uuid = readHardwareUuid(facts.hardwareUuid, deps.policy.knownBadHardwareUuids);
  const serial = serialKey(facts.manufacturer, facts.serialNumber);
  const ofAgent = await load(lookupKeys.agent(facts.agentId), hasAgent);
  const byHardwareUuid = uuid.usable
    ? await load(lookupKeys.hardwareUuid(uuid.uuid), (doc) => doc.hardwareUuid === uuid.uuid)
    : [];
  const bySerialNumber =
    !uuid.usable && serial !== null
      ? await load(lookupKeys.serial(serial), (doc) => doc.serialKey === serial)
      : [];
  // A computer that has the agent although its lookup entry is missing (a crash between the two writes) is
  // still the agent's computer.
  const agentsComputer = ofAgent[0] ?? [...byHardwareUuid, ...bySerialNumber].find(hasAgent) ?? null;
  return {
    docs,
    known: {
      ofAgent: agentsComputer === null ? null : domainComputer(agentsComputer),
      byHardwareUuid: byHardwareUuid.map(domainComputer),
      bySerialNumber: bySerialNumber.map(domainComputer),
    },
  };
}

async function identifyOnce(
  deps: IdentityDeps,
  facts: AgentFacts,
  retry: boolean,
): Promise<IdentificationOutcome> {
  const { docs, known } = await knownComputers(deps, facts);
  const decision = identifyComputer({
    facts,
    known,
    policy: deps.policy,
    onboardingEnabledForTenant: await deps.directory.onboardingEnabled(facts.tenantId),
    newComputerId: randomUUID(),
  });
  const now = deps.clock();
  switch (decision.kind) {
    case 'no-change':
      return { kind: decision.kind, computerId: decision.computerId };
    case 'needs-manual-decision':
      await deps.failures.resolve(facts.agentId, facts.version);
      await deps.pending.record(decision.request, now);
      return { kind: decision.kind };
    case 'failed':
      await deps.pending.resolve(facts.agentId, facts.version);
      await deps.failures.record(facts, decision.failure, now, retry);
      return { kind: decision.kind, failure: decision.failure };
    default: {
      const current = decision.kind === 'create-computer' ? null : (docs.get(decision.computer.id) ?? null);
      await writeComputer(deps, {
        current,
        next: stateFrom(decision.computer, current, now),
        ...identificationOf(decision, facts),
      });
      await deps.pending.resolve(facts.agentId, facts.version);
      await deps.failures.resolve(facts.agentId, facts.version);
      return { kind: decision.kind, computerId: decision.computer.id };
    }
  }
}

function identificationOf(
  decision: Extract<IdentificationDecision, { computer: unknown }>,
  facts: AgentFacts,
) {
  const agentId = facts.agentId;
  const wiped =
    decision.kind !== 'create-computer' && decision.wiped
      ? [{ event: 'wiped', agentId, detail: 'reported a different OS install id' }]
      : [];
  switch (decision.kind) {
    case 'create-computer':
      return {
        identified: { agentId, matchedBy: 'new' as const },
        history: [{ event: 'created', agentId, detail: null }],
      };
    case 'attach-agent':
      return {
        identified: { agentId, matchedBy: decision.matchedBy },
        history: [{ event: 'agent-attached', agentId, detail: `matched by ${decision.matchedBy}` }, ...wiped],
      };
    case 'refresh-facts':
      return {
        history: [
          ...(decision.hardwareUuidChanged
            ? [{ event: 'hardware-uuid-changed', agentId, detail: decision.computer.hardwareUuid }]
            : []),
          ...wiped,
        ],
      };
  }
}
