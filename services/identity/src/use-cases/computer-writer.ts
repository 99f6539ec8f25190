import {
  computerChanged,
  computerIdentified,
  computerOnboardingStatusChanged,
  type ComputerChanged,
  type ComputerIdentified,
  type ComputerOnboardingStatusChanged,
  type EventContract,
} from '@converge/contracts';
import type { OutboxEvent } from '@converge/store';
import { identityKey, type Computer } from '../domain/computer.ts';
import { serialKey } from '../domain/hardware-identifiers.ts';
import { primaryPerson } from '../domain/user-affinity.ts';
import { historyLength, type ComputerDocument, type HistoryEntry } from '../data-access/computer.schema.ts';
import { lookupKeys } from '../data-access/computer-lookup.repository.ts';
import type { IdentityDeps } from './identity-deps.ts';

/** A computer's state before the edge derives its stored fields (identity key, online, primary person…). */
export type ComputerState = Omit<
  ComputerDocument,
  | 'outbox'
  | 'outboxLeaseUntil'
  | 'outboxLeaseOwner'
  | 'identityKey'
  | 'serialKey'
  | 'displayName'
  | 'onlineAgentIds'
  | 'online'
  | 'primaryPersonId'
  | 'personIds'
  | 'updatedAt'
>;

export interface ComputerWrite {
  /** The stored computer the write starts from; null for a new one. */
  current: ComputerDocument | null;
  next: ComputerState;
  /** Set when the write identified an agent as a pathway to the computer. */
  identified?: { agentId: string; matchedBy: ComputerIdentified['matchedBy'] };
  history?: Omit<HistoryEntry, 'at'>[];
}

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

/** A stored computer's state, without what `writeComputer` derives and the outbox. */
export function stateOf(doc: ComputerDocument): ComputerState {
  return {
    ...technicianFields(doc),
    ...domainFields(domainComputer(doc)),
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

/** The state of a computer after the domain changed it: the domain's fields over what technicians set. */
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
  return { ...technician, ...domainFields(computer) };
}

/** The identifiers that find a computer: none once it is deleted, so its machine can be identified afresh. */
export function lookupKeysOf(
  doc: Pick<ComputerDocument, 'deletedAt' | 'hardwareUuid' | 'serialKey' | 'agents'>,
) {
  if (doc.deletedAt !== null) return [];
  return [
    ...(doc.hardwareUuid === null ? [] : [lookupKeys.hardwareUuid(doc.hardwareUuid)]),
    ...(doc.serialKey === null ? [] : [lookupKeys.serial(doc.serialKey)]),
    ...doc.agents.map((agent) => lookupKeys.agent(agent.agentId)),
  ];
}

async function derive(deps: IdentityDeps, next: ComputerState, now: Date): Promise<ComputerDocument> {
  const domain = domainComputer(next);
  const onlineAgentIds = await deps.presence.onlineAmong(next.agents.map((agent) => agent.agentId));
  const personIdByUpn = await deps.directory.personIdsByUpn(next.tenantId, next.affinity.recentUpns);
  const primary = primaryPerson(next.affinity, {
    personIdByUpn,
    lastSeenAt: domain.lastSeenAt,
    now: now.toISOString(),
    staleAfterDays: deps.staleAfterDays,
  });
  const recentFirst = [...next.affinity.recentUpns].reverse();
  const personIds = [...new Set(recentFirst.flatMap((upn) => personIdByUpn.get(upn) ?? []))].slice(0, 10);
  return {
    ...next,
    identityKey: next.deletedAt === null ? identityKey(domain) : `deleted:${next._id}`,
    serialKey: serialKey(next.manufacturer, next.serialNumber),
    displayName: next.name ?? next.hostname,
    onlineAgentIds,
    online: onlineAgentIds.length > 0,
    primaryPersonId: primary.kind === 'none' ? null : primary.personId,
    personIds,
    updatedAt: now,
    outbox: [],
  };
}

function event<T>(contract: EventContract<T>, doc: ComputerDocument, data: T, now: Date): OutboxEvent {
  return {
    type: contract.type,
    topic: contract.topic,
    subject: doc._id,
    tenantId: doc.tenantId,
    data,
    time: now,
  };
}

export function snapshotOf(doc: ComputerDocument, now: Date): ComputerChanged {
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

function eventsOf(write: ComputerWrite, doc: ComputerDocument, now: Date): OutboxEvent[] {
  const events = [event(computerChanged, doc, snapshotOf(doc, now), now)];
  if (write.identified !== undefined) {
    events.push(
      event(
        computerIdentified,
        doc,
        {
          computerId: doc._id,
          tenantId: doc.tenantId,
          version: doc.version,
          agentId: write.identified.agentId,
          matchedBy: write.identified.matchedBy,
          hostname: doc.hostname,
          deviceType: doc.deviceType,
          identifiedAt: now.toISOString(),
        } satisfies ComputerIdentified,
        now,
      ),
    );
  }
  const previousStatus = write.current?.onboardingStatus ?? null;
  if (previousStatus !== doc.onboardingStatus) {
    events.push(
      event(
        computerOnboardingStatusChanged,
        doc,
        {
          computerId: doc._id,
          tenantId: doc.tenantId,
          version: doc.version,
          status: doc.onboardingStatus,
          previousStatus,
          changedAt: now.toISOString(),
        } satisfies ComputerOnboardingStatusChanged,
        now,
      ),
    );
  }
  return events;
}

/**
 * Stores a computer's next state with the events it implies (the snapshot always, identification and
 * onboarding changes when they happened) in one single-document write, then updates the lookups. Throws
 * `ConflictError` when the computer changed meanwhile and `DuplicateIdentityError` when its identity key is
 * taken; the caller decides again from fresh state.
 */
export async function writeComputer(deps: IdentityDeps, write: ComputerWrite): Promise<ComputerDocument> {
  const now = deps.clock();
  const entries = (write.history ?? []).map((entry) => ({ ...entry, at: now }));
  const next = {
    ...write.next,
    version: (write.current?.version ?? 0) + 1,
    history: [...write.next.history, ...entries].slice(-historyLength),
  };
  const doc = await derive(deps, next, now);
  const events = eventsOf(write, doc, now);
  if (write.current === null) {
    const { outbox: _outbox, ...created } = doc;
    await deps.computers.create(created, events);
  } else {
    const { _id, version: _version, outbox: _outbox, ...changes } = doc;
    await deps.computers.save(_id, write.current.version, changes, events);
  }
  const before = write.current === null ? [] : lookupKeysOf(write.current);
  const after = lookupKeysOf(doc);
  await deps.lookups.add(
    after.filter((key) => !before.includes(key)),
    doc._id,
  );
  await deps.lookups.remove(
    before.filter((key) => !after.includes(key)),
    doc._id,
  );
  return doc;
}
