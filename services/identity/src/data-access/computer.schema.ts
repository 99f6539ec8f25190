/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';
import type { DeviceType, OnboardingStatus } from '@converge/contracts';
import type { ComputerIdentified } from '@converge/contracts';
import type { AgentLink, OperatingSystem } from '../domain/computer.ts';
import type { UserAffinity } from '../domain/user-affinity.ts';

/** One line of a computer's identification history, newest last. */
export interface HistoryEntry {
  at: Date;
  event: string;
  agentId: string | null;
  detail: string | null;
}

/**
 * An event of the batch that last wrote a computer, as its outbox keeps it: its id and time, and what the document
 * does not say (the agent identified and how, the onboarding status before). The event is rebuilt from the
 * document and the entry, the same way when it is first sent as when a new owner sends it again, so the outbox
 * costs the store a tenth of the events themselves.
 */
export type ComputerOutboxEntry = { id: string; time: string } & (
  | { type: 'changed' }
  | { type: 'identified'; agentId: string; matchedBy: ComputerIdentified['matchedBy'] }
  | { type: 'onboarding-status-changed'; previousStatus: OnboardingStatus | null }
);

/** How many history entries a computer keeps: enough to explain its last identifications. */
export const historyLength = 20;

/**
 * A computer as stored: the domain's `Computer` (dates as dates) plus what technicians set and what the edge
 * derives (identity key, online state, primary person, display name) so lists can filter on it, and the events
 * of the owner's batch that last wrote it (docs/architecture.md §9).
 */
export interface ComputerDocument {
  _id: string;
  tenantId: string;
  version: number;
  /** `identityKey` of the domain, or `deleted:<id>` once deleted so the machine can be identified afresh. */
  identityKey: string;
  /** `machineKey` of the domain: the identity key whose owner decides on this computer. */
  machineKey: string;
  /**
   * Set while a report that gives the computer another machine key (a new hardware UUID) is decided by that
   * key's owner, which alone knows whether another computer holds it: that owner decides on the computer until it
   * clears this, keeping the computer or giving it back.
   */
  handedOverTo: string | null;
  hardwareUuid: string | null;
  uuidShim: string | null;
  serialNumber: string | null;
  /** `serialKey(manufacturer, serialNumber)`: what the serial-number fallback looks computers up by. */
  serialKey: string | null;
  manufacturer: string | null;
  osInstallId: string | null;
  hostname: string;
  os: OperatingSystem;
  osVersion: string;
  deviceType: DeviceType;
  onboardingStatus: OnboardingStatus;
  agents: AgentLink[];
  /** The attached agents that are connected now; the computer is online when any is. */
  onlineAgentIds: string[];
  online: boolean;
  affinity: UserAffinity;
  primaryPersonId: string | null;
  /** People matching the recent logons, most recent first. */
  personIds: string[];
  lastSeenAt: Date;
  /** A technician's name for the computer; null shows the hostname. */
  name: string | null;
  displayName: string;
  tags: string[];
  notes: string;
  excludedFromMaintenance: boolean;
  deletedAt: Date | null;
  history: HistoryEntry[];
  createdAt: Date;
  updatedAt: Date;
  /**
   * The events of the batch that last wrote the computer (`ComputerOutboxEntry`s), sent after the write and again
   * by a new owner. JSON text, read only then: FerretDB stores a text as one value, where it would store each
   * field of each entry with its type (measured: a fifth of the cost of storing a new computer).
   */
  outbox: string;
  /** That batch: `<fence id>#<sequence number>`. */
  outboxBatch: string | null;
}

/** Where the owner of a computer is: the key it is handed over to, else its machine key. */
export function ownerKeyOf(doc: Pick<ComputerDocument, 'machineKey' | 'handedOverTo'>): string {
  return doc.handedOverTo ?? doc.machineKey;
}

const agentLinkSchema = new Schema<AgentLink>(
  {
    agentId: { type: String, required: true },
    provider: { type: String, required: true },
    factsVersion: { type: Number, required: true },
    firstSeenAt: { type: String, required: true },
    lastSeenAt: { type: String, required: true },
  },
  { _id: false },
);

const historyEntrySchema = new Schema<HistoryEntry>(
  {
    at: { type: Date, required: true },
    event: { type: String, required: true },
    agentId: { type: String, default: null },
    detail: { type: String, default: null },
  },
  { _id: false },
);

const computerSchema = new Schema<ComputerDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    version: { type: Number, required: true },
    identityKey: { type: String, required: true },
    machineKey: { type: String, required: true },
    handedOverTo: { type: String, default: null },
    hardwareUuid: { type: String, default: null },
    uuidShim: { type: String, default: null },
    serialNumber: { type: String, default: null },
    serialKey: { type: String, default: null },
    manufacturer: { type: String, default: null },
    osInstallId: { type: String, default: null },
    hostname: { type: String, required: true },
    os: { type: String, required: true },
    osVersion: { type: String, required: true },
    deviceType: { type: String, required: true },
    onboardingStatus: { type: String, required: true },
    agents: { type: [agentLinkSchema], default: [] },
    onlineAgentIds: { type: [String], default: [] },
    online: { type: Boolean, default: false },
    affinity: {
      recentUpns: { type: [String], default: [] },
      pinnedPersonId: { type: String, default: null },
      excluded: { type: Boolean, default: false },
    },
    primaryPersonId: { type: String, default: null },
    personIds: { type: [String], default: [] },
    lastSeenAt: { type: Date, required: true },
    name: { type: String, default: null },
    displayName: { type: String, required: true },
    tags: { type: [String], default: [] },
    notes: { type: String, default: '' },
    excludedFromMaintenance: { type: Boolean, default: false },
    deletedAt: { type: Date, default: null },
    history: { type: [historyEntrySchema], default: [] },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    outbox: { type: String, default: '[]' },
    outboxBatch: { type: String, default: null },
  },
  { versionKey: false, minimize: false },
);

// One computer per physical machine. Its owner decides every report of a machine in one place, so this is the
// last word rather than the usual one: a computer created by an owner that did not know the holder of its key
// (a store left half-written by a crash) is refused, and its report goes to the holder. Sparse, because the
// collection also holds the owners' fences, batch records and lookups (computer-lookup.ts), which have no
// identity key.
computerSchema.index({ identityKey: 1 }, { unique: true, sparse: true });
// The technicians' list: a tenant's computers by name, the default order of the dashboard.
computerSchema.index({ tenantId: 1, displayName: 1, _id: 1 });

export function computerModel(conn: Connection): Model<ComputerDocument> {
  return conn.model<ComputerDocument>('Computer', computerSchema, 'computers');
}
