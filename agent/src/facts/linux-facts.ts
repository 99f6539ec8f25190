import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { OsFamily } from '@converge/proto';
import { deviceTypeOfChassis, type Facts } from './facts.ts';
import type { LoggedOnSession } from './logged-on-users.ts';
import { upnsOf } from './logged-on-users.ts';

export interface LinuxSources {
  /** A file's text, or undefined when it is absent or unreadable (DMI serials are root-only). */
  readText(path: string): Promise<string | undefined>;
  hostname(): string;
  loggedOnSessions(): Promise<LoggedOnSession[]>;
}

const dmi = '/sys/class/dmi/id';

/** Facts from sysfs DMI (SMBIOS), /etc/machine-id, /etc/os-release and utmp (`who`). */
export async function collectLinuxFacts(sources: LinuxSources): Promise<Facts> {
  const [uuid, serial, vendor, product, chassis, machineId, osRelease, sessions] = await Promise.all([
    sources.readText(`${dmi}/product_uuid`),
    sources.readText(`${dmi}/product_serial`),
    sources.readText(`${dmi}/sys_vendor`),
    sources.readText(`${dmi}/product_name`),
    sources.readText(`${dmi}/chassis_type`),
    sources.readText('/etc/machine-id'),
    sources.readText('/etc/os-release'),
    sources.loggedOnSessions(),
  ]);
  const release = parseOsRelease(osRelease ?? '');
  const chassisType = chassis === undefined ? undefined : Number.parseInt(chassis, 10);
  return {
    hardwareUuid: uuid?.trim() ?? '',
    serialNumber: serial?.trim() ?? '',
    manufacturer: vendor?.trim() ?? '',
    model: product?.trim() ?? '',
    osInstallId: machineId?.trim() ?? '',
    hostname: sources.hostname(),
    osFamily: OsFamily.LINUX,
    osName: release.PRETTY_NAME ?? release.NAME ?? 'Linux',
    // VERSION_ID is missing on rolling releases (Arch): the kernel-free BUILD_ID, then "rolling".
    osVersion: release.VERSION_ID ?? release.BUILD_ID ?? 'rolling',
    deviceType: deviceTypeOfChassis(Number.isNaN(chassisType) ? undefined : chassisType),
    loggedOnUpns: upnsOf(sessions.map((session) => session.user)),
  };
}

/** `KEY=value` lines of os-release(5), values optionally quoted. */
export function parseOsRelease(text: string): Partial<Record<string, string>> {
  const fields: Partial<Record<string, string>> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, key = '', raw = ''] = match;
    fields[key] = raw.replace(/^(["'])(.*)\1$/, '$2').replace(/\\(["'$`\\])/g, '$1');
  }
  return fields;
}

export const linuxSources = (loggedOnSessions: () => Promise<LoggedOnSession[]>): LinuxSources => ({
  readText: async (path) => {
    try {
      return await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  hostname,
  loggedOnSessions,
});
