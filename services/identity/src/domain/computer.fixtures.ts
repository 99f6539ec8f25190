// Builders for unit tests and the benchmark: a typical facts report and the computer it would have created.
import { createComputer, type AgentFacts, type Computer } from './computer.ts';
import { identificationPolicy } from './identification.ts';

export const uuid = '4c4c4544-0042-3510-8052-b4c04f4e3732';

export function factsOf(overrides: Partial<AgentFacts> = {}): AgentFacts {
  return {
    agentId: 'agent-1',
    provider: 'converge',
    tenantId: 'tenant-1',
    hardwareUuid: uuid.toUpperCase(),
    serialNumber: 'ABC1234',
    manufacturer: 'Dell Inc.',
    osInstallId: 'install-1',
    hostname: 'DESKTOP-1',
    os: 'windows',
    osVersion: '10.0.26100',
    deviceType: 'workstation',
    loggedOnUpns: ['ann@contoso.com'],
    version: 1,
    reportedAt: '2026-11-23T08:00:00Z',
    ...overrides,
  };
}

export function computerOf(overrides: Partial<Computer> = {}, facts: AgentFacts = factsOf()): Computer {
  return {
    ...createComputer(facts, {
      id: 'computer-1',
      hardwareUuid: uuid,
      uuidShim: null,
      onboardingEnabled: true,
    }),
    onboardingStatus: 'onboarded',
    ...overrides,
  };
}

export const policy = identificationPolicy({
  extraKnownBadHardwareUuids: [],
  trustedManufacturers: ['Dell Inc.'],
  onboardingEnabledGlobally: true,
});
