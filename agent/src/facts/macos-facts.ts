import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { DeviceType, OsFamily } from '@converge/proto';
import type { Facts } from './facts.ts';
import { listLoggedOnSessions, upnsOf } from './logged-on-users.ts';

const execFileAsync = promisify(execFile);

async function run(command: string, args: string[]): Promise<string> {
  try {
    return (await execFileAsync(command, args, { timeout: 15_000 })).stdout;
  } catch {
    return '';
  }
}

/** `"Key" = "value"` from `ioreg -rd1 -c IOPlatformExpertDevice`. */
function ioregValue(output: string, key: string): string {
  return new RegExp(`"${key}" = "([^"]*)"`).exec(output)?.[1]?.trim() ?? '';
}

/**
 * Facts on macOS from the I/O Registry (platform UUID and serial), system_profiler (model) and sw_vers. macOS
 * has no per-installation id like /etc/machine-id, so `osInstallId` stays empty; Macs sold as servers no
 * longer exist, so a MacBook is portable and every other Mac a workstation.
 */
export async function collectMacosFacts(): Promise<Facts> {
  const [ioreg, hardware, productName, productVersion, sessions] = await Promise.all([
    run('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice']),
    run('system_profiler', ['SPHardwareDataType']),
    run('sw_vers', ['-productName']),
    run('sw_vers', ['-productVersion']),
    listLoggedOnSessions(),
  ]);
  const modelName = /Model Name:\s*(.+)$/m.exec(hardware)?.[1]?.trim() ?? '';
  const modelId = /Model Identifier:\s*(.+)$/m.exec(hardware)?.[1]?.trim() ?? '';
  return {
    hardwareUuid: ioregValue(ioreg, 'IOPlatformUUID'),
    serialNumber: ioregValue(ioreg, 'IOPlatformSerialNumber'),
    manufacturer: 'Apple Inc.',
    model: modelId || modelName,
    osInstallId: '',
    hostname: hostname(),
    osFamily: OsFamily.MACOS,
    osName: `${productName.trim() || 'macOS'} ${productVersion.trim()}`.trim(),
    osVersion: productVersion.trim(),
    deviceType: /book/i.test(modelName) ? DeviceType.PORTABLE : DeviceType.WORKSTATION,
    loggedOnUpns: upnsOf(sessions.map((session) => session.user)),
  };
}
