import { randomUUID } from 'node:crypto';
import { contractEvent, type ContractEvent } from '@converge/bus';
import {
  computerChanged,
  computerIdentified,
  computerOnboardingStatusChanged,
  type ComputerChanged,
  type ComputerIdentified,
} from '@converge/contracts';
import { identityKey, machineKey, type Computer } from '../domain/computer.ts';
import { serialKey } from '../domain/hardware-identifiers.ts';
import { primaryPerson } from '../domain/user-affinity.ts';
import { personIdOf, type PeopleByUpn } from '../data-access/directory.repository.ts';
import {
  historyLength,
  type ComputerDocument,
  type ComputerOutboxEntry,
  type HistoryEntry,
} from '../data-access/computer.schema.ts';

/*
 * A computer as the domain changed it, turned into the document stored and the events published. Pure: what the
 * document derives from elsewhere (which agents are connected, who the logged-on people are) is passed in.
 */

/** A computer's state before the fields the document derives (identity key, online, primary person…). */
export type ComputerState = Omit<
  ComputerDocument,
  | 'outbox'
  | 'outboxBatch'
  | 'identityKey'
  | 'machineKey'
  | 'serialKey'
  | 'displayName'
  | 'online'
  | 'primaryPersonId'
  | 'personIds'
  | 'updatedAt'
>;

/** The domain's view of a stored computer. */
export function domainComputer(doc: ComputerState): Computer {
  return {
    id: doc._id,
    tenantId: doc.tenantId,
    version: doc.version,
    hardwareUuid: doc.hardwareUuid,
    uuidShim: doc.uuidShim,
    serialNumber: doc.serialNumber,
    manufacturer: doc.manufacturer,
    osInstallId: doc.osInstallId,
    hostname: doc.hostname,
    os: doc.os,
    osVersion: doc.osVersion,
    deviceType: doc.deviceType,
    onboardingStatus: doc.onboardingStatus,
    agents: doc.agents,
    affinity: doc.affinity,
    lastSeenAt: doc.lastSeenAt.toISOString(),
  };
}

/** A stored computer's state, without what its document derives and its outbox. */
export function stateOf(doc: ComputerDocument): ComputerState {
  return {
    ...technicianFields(doc),
    ...domainFields(domainComputer(doc)),
    handedOverTo: doc.handedOverTo,
    onlineAgentIds: doc.onlineAgentIds,
  };
}

function technicianFields(doc: ComputerState) {
  return {
    name: doc.name,
    tags: doc.tags,
    notes: doc.notes,
    excludedFromMaintenance: doc.excludedFromMaintenance,
    deletedAt: doc.deletedAt,
    history: doc.history,
    createdAt: doc.createdAt,
  };
}

function domainFields(computer: Computer) {
  return {
    _id: computer.id,
    tenantId: computer.tenantId,
    version: computer.version,
    hardwareUuid: computer.hardwareUuid,
    uuidShim: computer.uuidShim,
    serialNumber: computer.serialNumber,
    manufacturer: computer.manufacturer,
    osInstallId: computer.osInstallId,
    hostname: computer.hostname,
    os: computer.os,
    osVersion: computer.osVersion,
    deviceType: computer.deviceType,
    onboardingStatus: computer.onboardingStatus,
    agents: [...computer.agents],
    affinity: { ...computer.affinity, recentUpns: [...computer.affinity.recentUpns] },
    lastSeenAt: new Date(computer.lastSeenAt),
  };
}

/**
 * The state of a computer after the domain changed it: the domain's fields over what technicians set and what
 * the owner keeps (hand-over, connected agents: those still attached).
 */
export function stateFrom(computer: Computer, base: ComputerState | null, now: Date): ComputerState {
  const technician =
    base === null
      ? {
          name: null,
          tags: [],
          notes: '',
          excludedFromMaintenance: false,
          deletedAt: null,
          history: [],
          createdAt: now,
        }
      : technicianFields(base);
  const attached = new Set(computer.agents.map((agent) => agent.agentId));
  return {
    ...technician,
    ...domainFields(computer),
    handedOverTo: base?.handedOverTo ?? null,
    onlineAgentIds: (base?.onlineAgentIds ?? []).filter((agentId) => attached.has(agentId)),
  };
}

/** The machine key a state gives its computer (see the domain's `machineKey`). */
export function machineKeyOf(state: ComputerState): string {
  return machineKey(domainComputer(state));
}

/** Appends history entries, keeping the newest `historyLength`. */
export function withHistory(
  state: ComputerState,
  entries: readonly Omit<HistoryEntry, 'at'>[],
  now: Date,
): ComputerState {
  if (entries.length === 0) return state;
  const added = entries.map((entry) => ({ ...entry, at: now }));
  return { ...state, history: [...state.history, ...added].slice(-historyLength) };
}

export interface DerivedFrom {
  /** The people of the computer's tenant with its recent UPNs. */
  people: PeopleByUpn;
  now: Date;
  staleAfterDays: number;
}

/** The stored document of a state: what lists filter and sort on, derived; the outbox left to the writer. */
export function documentOf(
  state: ComputerState,
  from: DerivedFrom,
): Omit<ComputerDocument, 'outbox' | 'outboxBatch'> {
  const domain = domainComputer(state);
  const personIdByUpn = new Map<string, string>();
  for (const upn of state.affinity.recentUpns) {
    const personId = personIdOf(from.people, state.tenantId, upn);
    if (personId !== undefined) personIdByUpn.set(upn, personId);
  }
  const primary = primaryPerson(state.affinity, {
    personIdByUpn,
    lastSeenAt: domain.lastSeenAt,
    now: from.now.toISOString(),
    staleAfterDays: from.staleAfterDays,
  });
  const recentFirst = [...state.affinity.recentUpns].reverse();
  const personIds = [...new Set(recentFirst.flatMap((upn) => personIdByUpn.get(upn) ?? []))].slice(0, 10);
  return {
    ...state,
    identityKey: state.deletedAt === null ? identityKey(domain) : `deleted:${state._id}`,
    machineKey: machineKey(domain),
    serialKey: serialKey(state.manufacturer, state.serialNumber),
    displayName: state.name ?? state.hostname,
    online: state.onlineAgentIds.length > 0,
    primaryPersonId: primary.kind === 'none' ? null : primary.personId,
    personIds,
    updatedAt: from.now,
  };
}

export function snapshotOf(
  doc: Omit<ComputerDocument, 'outbox' | 'outboxBatch'>,
  now: Date,
): ComputerChanged {
  return {
    computerId: doc._id,
    tenantId: doc.tenantId,
    version: doc.version,
    name: doc.displayName,
    deviceType: doc.deviceType,
    // Facts carry no domain controller role beyond the device type.
    isPrimaryDomainController: false,
    os: doc.os,
    osVersion: doc.osVersion,
    serialNumber: doc.serialNumber,
    tags: doc.tags,
    primaryPersonId: doc.primaryPersonId,
    personIds: doc.personIds,
    excludedFromMaintenance: doc.excludedFromMaintenance,
    onboardingStatus: doc.onboardingStatus,
    agentIds: doc.agents.map((agent) => agent.agentId).slice(-20),
    deletedAt: doc.deletedAt?.toISOString() ?? null,
    changedAt: now.toISOString(),
  };
}

/** An agent identified as a pathway to the computer, and how. */
export interface Identified {
  agentId: string;
  matchedBy: ComputerIdentified['matchedBy'];
}

/**
 * The outbox of a write of the computer: its snapshot always, each agent identified, and its onboarding status
 * when that changed since `previousStatus` (null for a new computer).
 */
export function outboxOf(
  doc: Pick<ComputerDocument, 'onboardingStatus'>,
  previousStatus: ComputerDocument['onboardingStatus'] | null,
  identified: readonly Identified[],
  now: Date,
): string {
  const entry = () => ({ id: randomUUID(), time: now.toISOString() });
  const entries: ComputerOutboxEntry[] = [
    { ...entry(), type: 'changed' },
    ...identified.map(({ agentId, matchedBy }) => ({
      ...entry(),
      type: 'identified' as const,
      agentId,
      matchedBy,
    })),
    ...(previousStatus === doc.onboardingStatus
      ? []
      : [{ ...entry(), type: 'onboarding-status-changed' as const, previousStatus }]),
  ];
  return JSON.stringify(entries);
}

/** The events of the computer's outbox, rebuilt from the document that holds it, under their ids. */
export function eventsOf(doc: ComputerDocument): ContractEvent[] {
  const { _id: subject, tenantId } = doc;
  return (JSON.parse(doc.outbox) as ComputerOutboxEntry[]).map((entry) => {
    const time = new Date(entry.time);
    const envelope = { id: entry.id, subject, tenantId, time };
    switch (entry.type) {
      case 'changed':
        return contractEvent(computerChanged, { ...envelope, data: snapshotOf(doc, time) });
      case 'identified':
        return contractEvent(computerIdentified, {
          ...envelope,
          data: {
            computerId: doc._id,
            tenantId,
            version: doc.version,
            agentId: entry.agentId,
            matchedBy: entry.matchedBy,
            hostname: doc.hostname,
            deviceType: doc.deviceType,
            identifiedAt: entry.time,
          },
        });
      case 'onboarding-status-changed':
        return contractEvent(computerOnboardingStatusChanged, {
          ...envelope,
          data: {
            computerId: doc._id,
            tenantId,
            version: doc.version,
            status: doc.onboardingStatus,
            previousStatus: entry.previousStatus,
            changedAt: entry.time,
          },
        });
    }
  });
}
