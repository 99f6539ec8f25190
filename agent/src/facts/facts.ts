import { DeviceType, OsFamily } from '@converge/proto';

/**
 * What the agent reports about its computer (the `AgentFacts` message without the agent version). Values a
 * computer does not have are empty strings; identification (services/identity) normalizes what is reported
 * and rejects placeholders, so collectors pass values on as read, only trimmed.
 */
export interface Facts {
  hardwareUuid: string;
  serialNumber: string;
  manufacturer: string;
  model: string;
  osInstallId: string;
  hostname: string;
  osFamily: OsFamily;
  osName: string;
  osVersion: string;
  deviceType: DeviceType;
  loggedOnUpns: string[];
}

/**
 * SMBIOS chassis types (DMTF DSP0134, 7.4.1) of portable and server enclosures; everything else (desktop,
 * tower, mini PC, all-in-one, unknown) is a workstation.
 */
const portableChassis = new Set([8, 9, 10, 11, 14, 30, 31, 32]);
const serverChassis = new Set([17, 23, 25, 28, 29]);

export function deviceTypeOfChassis(chassisType: number | undefined): DeviceType {
  if (chassisType === undefined) return DeviceType.WORKSTATION;
  if (portableChassis.has(chassisType)) return DeviceType.PORTABLE;
  if (serverChassis.has(chassisType)) return DeviceType.SERVER;
  return DeviceType.WORKSTATION;
}

export const emptyFacts: Facts = {
  hardwareUuid: '',
  serialNumber: '',
  manufacturer: '',
  model: '',
  osInstallId: '',
  hostname: '',
  osFamily: OsFamily.UNSPECIFIED,
  osName: '',
  osVersion: '',
  deviceType: DeviceType.UNSPECIFIED,
  loggedOnUpns: [],
};
