import { describe, expect, it } from '@jest/globals';
import { AgentFactsSchema, create, DeviceType, OsFamily } from '@converge/proto';
import { agentFactsReportedSchema } from '@converge/contracts';
import { agentVersionOf, factsReport, factsVersion } from './agent-facts.ts';

const connection = { agentId: 'agent-1', tenantId: 'tenant-contoso', epoch: 3, replica: 'gw-a' };
const now = new Date('2026-05-01T10:00:00.000Z');

function facts(overrides: Parameters<typeof create<typeof AgentFactsSchema>>[1] = {}) {
  return create(AgentFactsSchema, {
    hardwareUuid: '4C4C4544-0031-3510-8052-B4C04F564432',
    serialNumber: ' 5Q8RTX2 ',
    manufacturer: 'Dell Inc.',
    model: 'Latitude 7440',
    osInstallId: '',
    hostname: 'LT-0042',
    osFamily: OsFamily.WINDOWS,
    osName: 'Windows 11 Pro',
    osVersion: '10.0.22631',
    deviceType: DeviceType.PORTABLE,
    loggedOnUpns: ['ada@contoso.com', 'not-a-upn', 'ada@contoso.com'],
    agentVersion: '1.2.3',
    ...overrides,
  });
}

describe('facts report', () => {
  it('maps a Hello to a facts-reported event that satisfies the contract', () => {
    const mapped = factsReport(facts(), connection, 2, now);
    if (!mapped.ok) throw new Error(mapped.reason);
    expect(mapped.report).toMatchObject({
      agentId: 'agent-1',
      tenantId: 'tenant-contoso',
      provider: 'converge',
      version: 3 * 2 ** 20 + 2,
      serialNumber: '5Q8RTX2',
      osInstallId: null,
      os: 'windows',
      osVersion: '10.0.22631',
      deviceType: 'portable',
      loggedOnUpns: ['ada@contoso.com'],
      reportedAt: '2026-05-01T10:00:00.000Z',
    });
    expect(agentFactsReportedSchema.safeParse(mapped.report).success).toBe(true);
  });

  it('orders every report of a new connection after every report of an older one', () => {
    expect(factsVersion(4, 1)).toBeGreaterThan(factsVersion(3, 2 ** 20 + 5));
  });

  it('refuses a Hello without an OS family or hostname, and reads a missing device type as a workstation', () => {
    expect(factsReport(facts({ osFamily: OsFamily.UNSPECIFIED }), connection, 1, now).ok).toBe(false);
    expect(factsReport(facts({ hostname: '  ' }), connection, 1, now).ok).toBe(false);
    expect(factsReport(undefined, connection, 1, now).ok).toBe(false);
    const mapped = factsReport(
      facts({ deviceType: DeviceType.UNSPECIFIED, osVersion: '' }),
      connection,
      1,
      now,
    );
    expect(mapped.ok && mapped.report.deviceType).toBe('workstation');
    expect(mapped.ok && mapped.report.osVersion).toBe('Windows 11 Pro');
  });

  it('names an agent that does not report its version unknown', () => {
    expect(agentVersionOf(facts({ agentVersion: '' }))).toBe('unknown');
    expect(agentVersionOf(facts())).toBe('1.2.3');
  });
});
