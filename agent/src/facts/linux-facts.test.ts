import { describe, expect, it } from '@jest/globals';
import { DeviceType, OsFamily } from '@converge/proto';
import { deviceTypeOfChassis } from './facts.ts';
import { collectLinuxFacts, parseOsRelease } from './linux-facts.ts';

const files: Record<string, string> = {
  '/sys/class/dmi/id/product_uuid': '4c4c4544-0042-3510-8052-b4c04f4e3732\n',
  '/sys/class/dmi/id/product_serial': 'B5RZ2N2\n',
  '/sys/class/dmi/id/sys_vendor': 'Dell Inc.\n',
  '/sys/class/dmi/id/product_name': 'Latitude 7440\n',
  '/sys/class/dmi/id/chassis_type': '10\n',
  '/etc/machine-id': '3d1219c7c4c5404aaa1f6d2a48adfda4\n',
  '/etc/os-release': 'NAME="Ubuntu"\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04.1 LTS"\n',
};

describe('Linux facts', () => {
  it('reads SMBIOS, machine id, os-release and the logged-on UPNs', async () => {
    const facts = await collectLinuxFacts({
      readText: (path) => Promise.resolve(files[path]),
      hostname: () => 'lt-0042',
      loggedOnSessions: () =>
        Promise.resolve([
          { user: 'alice@corp.example.com', line: 'tty2', from: ':0' },
          { user: 'root', line: 'pts/0', from: '10.0.0.5' },
        ]),
    });
    expect(facts).toEqual({
      hardwareUuid: '4c4c4544-0042-3510-8052-b4c04f4e3732',
      serialNumber: 'B5RZ2N2',
      manufacturer: 'Dell Inc.',
      model: 'Latitude 7440',
      osInstallId: '3d1219c7c4c5404aaa1f6d2a48adfda4',
      hostname: 'lt-0042',
      osFamily: OsFamily.LINUX,
      osName: 'Ubuntu 24.04.1 LTS',
      osVersion: '24.04',
      deviceType: DeviceType.PORTABLE,
      loggedOnUpns: ['alice@corp.example.com'],
    });
  });

  it('leaves out what a machine does not have (a container without DMI)', async () => {
    const facts = await collectLinuxFacts({
      readText: () => Promise.resolve(undefined),
      hostname: () => 'ct-1',
      loggedOnSessions: () => Promise.resolve([]),
    });
    expect(facts).toMatchObject({
      hardwareUuid: '',
      serialNumber: '',
      osInstallId: '',
      osName: 'Linux',
      osVersion: 'rolling',
      deviceType: DeviceType.WORKSTATION,
      loggedOnUpns: [],
    });
  });

  it('tells portable and server chassis from workstations', () => {
    expect(deviceTypeOfChassis(9)).toBe(DeviceType.PORTABLE);
    expect(deviceTypeOfChassis(23)).toBe(DeviceType.SERVER);
    expect(deviceTypeOfChassis(3)).toBe(DeviceType.WORKSTATION);
    expect(deviceTypeOfChassis(undefined)).toBe(DeviceType.WORKSTATION);
  });

  it('parses quoted and unquoted os-release values', () => {
    expect(parseOsRelease('ID=debian\nNAME="Debian GNU/Linux"\n# comment\nX=\'a\\"b\'')).toEqual({
      ID: 'debian',
      NAME: 'Debian GNU/Linux',
      X: 'a"b',
    });
  });
});
