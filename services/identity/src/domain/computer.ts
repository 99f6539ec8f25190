import type { AgentFactsReported, DeviceType, OnboardingStatus } from '@converge/contracts';
import { serialKey } from './hardware-identifiers.ts';
import { noAffinity, recordLoggedOnUpns, type UserAffinity } from './user-affinity.ts';

export type OperatingSystem = AgentFactsReported['os'];

/** What an agent reports about the machine it runs on: one facts report, after the edge has parsed it. */
export interface AgentFacts {
  agentId: string;
  /** Who runs the agent: `converge` for our own agent, otherwise the RMM integration's name. */
  provider: string;
  /** The tenant the gateway authenticated the agent for (never what the agent claims). */
  tenantId: string;
  hardwareUuid: string | null;
  serialNumber: string | null;
  manufacturer: string | null;
  /** Changes when the operating system is reinstalled, so it tells a wiped machine from a known one. */
  osInstallId: string | null;
  hostname: string;
  os: OperatingSystem;
  osVersion: string;
  deviceType: DeviceType;
  loggedOnUpns: readonly string[];
  /** Grows with each report of one agent; a report not newer than the last applied one changes nothing. */
  version: number;
  reportedAt: string;
}

/** An agent attached to a computer: one pathway to it (the reference product's "RMM computer"). */
export interface AgentLink {
  agentId: string;
  provider: string;
  /** Version of the last facts report applied from this agent. */
  factsVersion: number;
  /** When the agent first reported facts for this computer. */
  firstSeenAt: string;
  lastSeenAt: string;
}

export interface Computer {
  id: string;
  tenantId: string;
  /** Aggregate version: each change returns the computer with the next one. */
  version: number;
  /** Canonical hardware UUID as reported, null when the computer was identified by serial number. */
  hardwareUuid: string | null;
  /** Set when a technician kept a duplicate of a known UUID apart ("keep both"); see `identityKey`. */
  uuidShim: string | null;
  serialNumber: string | null;
  manufacturer: string | null;
  osInstallId: string | null;
  hostname: string;
  os: OperatingSystem;
  osVersion: string;
  deviceType: DeviceType;
  onboardingStatus: OnboardingStatus;
  agents: readonly AgentLink[];
  affinity: UserAffinity;
  lastSeenAt: string;
}

/**
 * The machine a computer stands for: its hardware UUID, else its manufacturer and serial number (the key of the
 * facts that created it, see `identificationKey`). Clones kept apart share it; a computer is decided on by the
 * owner of this key, so every report about one machine meets every computer of it in one place.
 */
export function machineKey(computer: Computer): string {
  return computer.hardwareUuid ?? serialKey(computer.manufacturer, computer.serialNumber) ?? computer.id;
}

/**
 * The value that is unique across computers (the store's unique index). Normally the machine key, so two
 * agents on one machine can never create two computers; for a computer kept apart from a clone, its shim, so
 * both may report the same UUID.
 */
export function identityKey(computer: Computer): string {
  return computer.uuidShim ?? machineKey(computer);
}

/** The shim of a computer kept apart from a duplicate UUID: derived from its own id, so it never collides. */
export function uuidShimFor(computerId: string): string {
  return `shim:${computerId}`;
}

/** Where a new or wiped computer starts: waiting for onboarding, unless onboarding is turned off. */
export function initialOnboardingStatus(onboardingEnabled: boolean): OnboardingStatus {
  return onboardingEnabled ? 'needs-onboarding' : 'onboarded';
}

function linkFrom(facts: AgentFacts, firstSeenAt = facts.reportedAt): AgentLink {
  return {
    agentId: facts.agentId,
    provider: facts.provider,
    factsVersion: facts.version,
    firstSeenAt,
    lastSeenAt: facts.reportedAt,
  };
}

export interface NewComputer {
  id: string;
  hardwareUuid: string | null;
  uuidShim: string | null;
  onboardingEnabled: boolean;
}

export function createComputer(facts: AgentFacts, computer: NewComputer): Computer {
  return {
    id: computer.id,
    tenantId: facts.tenantId,
    version: 1,
    hardwareUuid: computer.hardwareUuid,
    uuidShim: computer.uuidShim,
    serialNumber: facts.serialNumber,
    manufacturer: facts.manufacturer,
    osInstallId: facts.osInstallId,
    hostname: facts.hostname,
    os: facts.os,
    osVersion: facts.osVersion,
    deviceType: facts.deviceType,
    onboardingStatus: initialOnboardingStatus(computer.onboardingEnabled),
    agents: [linkFrom(facts)],
    affinity: recordLoggedOnUpns(noAffinity, facts.loggedOnUpns),
    lastSeenAt: facts.reportedAt,
  };
}

/** A different OS install id on known hardware means the machine was wiped and reinstalled. */
export function wasWiped(computer: Computer, facts: AgentFacts): boolean {
  return (
    computer.osInstallId !== null &&
    facts.osInstallId !== null &&
    computer.osInstallId.trim().toLowerCase() !== facts.osInstallId.trim().toLowerCase()
  );
}

export interface FactsApplied {
  computer: Computer;
  wiped: boolean;
}

/**
 * The computer after a facts report from `facts.agentId`, which is attached (or replaces the agents listed in
 * `replacedAgentIds`). Identifiers the report lacks keep their known value: an agent whose WMI broke must not
 * erase what identified the computer. A wiped computer goes back to waiting for onboarding.
 */
export function applyFacts(
  computer: Computer,
  facts: AgentFacts,
  onboardingEnabled: boolean,
  replacedAgentIds: readonly string[] = [],
): FactsApplied {
  const wiped = wasWiped(computer, facts);
  const previous = computer.agents.find((agent) => agent.agentId === facts.agentId);
  const others = computer.agents.filter(
    (agent) => agent.agentId !== facts.agentId && !replacedAgentIds.includes(agent.agentId),
  );
  return {
    wiped,
    computer: {
      ...computer,
      version: computer.version + 1,
      serialNumber: facts.serialNumber ?? computer.serialNumber,
      manufacturer: facts.manufacturer ?? computer.manufacturer,
      osInstallId: facts.osInstallId ?? computer.osInstallId,
      hostname: facts.hostname,
      os: facts.os,
      osVersion: facts.osVersion,
      deviceType: facts.deviceType,
      onboardingStatus: wiped && onboardingEnabled ? 'needs-onboarding' : computer.onboardingStatus,
      agents: [...others, linkFrom(facts, previous?.firstSeenAt)],
      affinity: recordLoggedOnUpns(computer.affinity, facts.loggedOnUpns),
      // Agents' clocks differ; the newest sighting wins.
      lastSeenAt:
        Date.parse(facts.reportedAt) > Date.parse(computer.lastSeenAt)
          ? facts.reportedAt
          : computer.lastSeenAt,
    },
  };
}
