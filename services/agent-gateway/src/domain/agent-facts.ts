import type { AgentFactsReported, DeviceType } from '@converge/contracts';
import { DeviceType as ProtoDeviceType, OsFamily, type AgentFacts } from '@converge/proto';

/** Which connection a facts report came over; the tenant is the credential's, never the agent's word. */
export interface ConnectionIdentity {
  agentId: string;
  tenantId: string;
  epoch: number;
  replica: string;
}

/** Reports per connection fit below this, so `epoch * 2^20 + report` grows across connections. */
export const reportsPerConnection = 2 ** 20;

export function factsVersion(epoch: number, reportNumber: number): number {
  return epoch * reportsPerConnection + Math.min(reportNumber, reportsPerConnection - 1);
}

const osByFamily: Partial<Record<OsFamily, AgentFactsReported['os']>> = {
  [OsFamily.WINDOWS]: 'windows',
  [OsFamily.MACOS]: 'macos',
  [OsFamily.LINUX]: 'linux',
};

const deviceTypeByProto: Partial<Record<ProtoDeviceType, DeviceType>> = {
  [ProtoDeviceType.WORKSTATION]: 'workstation',
  [ProtoDeviceType.PORTABLE]: 'portable',
  [ProtoDeviceType.SERVER]: 'server',
  [ProtoDeviceType.DOMAIN_CONTROLLER]: 'domain-controller',
};

/** A machine may lack an identifier (virtual machines, white-box hardware): empty becomes null. */
function identifier(value: string): string | null {
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed.slice(0, 256);
}

function isUpn(value: string): boolean {
  return value.length >= 3 && value.length <= 256 && value.includes('@');
}

export type FactsMapping = { ok: true; report: AgentFactsReported } | { ok: false; reason: string };

/**
 * Maps the facts of a Hello to a `facts-reported` event. An agent that cannot tell its OS family or
 * hostname sent a broken Hello; a missing device type is read as a workstation (the common case, and
 * identification does not match on it), and logged-on names that are not UPNs are left out.
 */
export function factsReport(
  facts: AgentFacts | undefined,
  connection: ConnectionIdentity,
  reportNumber: number,
  now: Date,
): FactsMapping {
  if (facts === undefined) return { ok: false, reason: 'hello without facts' };
  const os = osByFamily[facts.osFamily];
  if (os === undefined) return { ok: false, reason: 'hello without an OS family' };
  const hostname = facts.hostname.trim();
  if (hostname === '' || hostname.length > 255)
    return { ok: false, reason: 'hello without a valid hostname' };
  const osVersion = (facts.osVersion.trim() || facts.osName.trim() || 'unknown').slice(0, 128);
  return {
    ok: true,
    report: {
      ...connection,
      provider: 'converge',
      version: factsVersion(connection.epoch, reportNumber),
      hardwareUuid: identifier(facts.hardwareUuid),
      serialNumber: identifier(facts.serialNumber),
      manufacturer: identifier(facts.manufacturer),
      model: identifier(facts.model),
      osInstallId: identifier(facts.osInstallId),
      hostname,
      os,
      osVersion,
      deviceType: deviceTypeByProto[facts.deviceType] ?? 'workstation',
      loggedOnUpns: [...new Set(facts.loggedOnUpns.filter(isUpn))].slice(0, 50),
      reportedAt: now.toISOString(),
    },
  };
}

/** The agent version for the `connected` event; an agent that does not say is `unknown`. */
export function agentVersionOf(facts: AgentFacts | undefined): string {
  const version = facts?.agentVersion.trim() ?? '';
  return version === '' ? 'unknown' : version.slice(0, 64);
}
