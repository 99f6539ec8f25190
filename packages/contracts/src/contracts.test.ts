import { describe, expect, it } from '@jest/globals';
import {
  agentFactsReported,
  allContracts,
  ContractViolation,
  defineEvent,
  findContract,
  parseEventData,
  topics,
  type AgentFactsReported,
} from './index.ts';

const at = '2026-05-04T10:00:00.000Z';
const connection = { agentId: 'agent-1', tenantId: 'tenant-1', epoch: 3, replica: 'gateway-0' };
const commandRef = { commandId: 'cmd-1', agentId: 'agent-1', tenantId: 'tenant-1', sessionId: 'session-1' };

const facts: AgentFactsReported = {
  ...connection,
  provider: 'converge',
  version: 2 ** 20 + 1,
  hardwareUuid: '4C4C4544-0042-3510-8052-B4C04F4E3732',
  serialNumber: 'B5RN2',
  manufacturer: 'Dell Inc.',
  model: 'Latitude 7440',
  osInstallId: 'b3f1c2d4-0000-4000-8000-000000000001',
  hostname: 'LAPTOP-042',
  os: 'windows',
  osVersion: '10.0.26100',
  deviceType: 'portable',
  loggedOnUpns: ['ada@contoso.example'],
  reportedAt: at,
};

/** One valid payload per contract; the test below fails when a contract is added without one. */
const validPayloads: Record<string, unknown> = {
  'converge.agent.connected.v1': {
    ...connection,
    transport: 'websocket',
    agentVersion: '1.4.0',
    connectedAt: at,
  },
  'converge.agent.disconnected.v1': { ...connection, reason: 'heartbeat-timeout', disconnectedAt: at },
  'converge.agent.facts-reported.v1': facts,
  'converge.command.requested.v1': {
    ...commandRef,
    actionId: 'action-1',
    language: 'powershell',
    context: 'system',
    body: 'Get-Item HKLM:\\SOFTWARE\\7-Zip | Select-Object -ExpandProperty Version',
    parameters: { channel: 'stable', retries: 2, force: false },
    timeoutSeconds: 600,
    requestedAt: at,
  },
  'converge.command.cancel-requested.v1': { ...commandRef, requestedAt: at },
  'converge.command.output-chunk.v1': { ...commandRef, seq: 0, stream: 'stdout', data: 'Installing 7-Zip\n' },
  'converge.command.completed.v1': {
    ...commandRef,
    outcome: 'completed',
    exitCode: 0,
    lastLine: '24.08',
    durationMs: 5120,
    truncated: false,
    completedAt: at,
  },
  'converge.computer.identified.v1': {
    computerId: 'computer-1',
    tenantId: 'tenant-1',
    version: 1,
    agentId: 'agent-1',
    matchedBy: 'hardware-uuid',
    hostname: 'LAPTOP-042',
    deviceType: 'portable',
    identifiedAt: at,
  },
  'converge.computer.onboarding-status-changed.v1': {
    computerId: 'computer-1',
    tenantId: 'tenant-1',
    version: 2,
    status: 'onboarding',
    previousStatus: 'needs-onboarding',
    changedAt: at,
  },
  'converge.computer.changed.v1': {
    computerId: 'computer-1',
    tenantId: 'tenant-1',
    version: 3,
    name: 'LAPTOP-042',
    deviceType: 'portable',
    isPrimaryDomainController: false,
    os: 'windows',
    osVersion: '10.0.26100',
    serialNumber: 'B5RN2',
    tags: ['finance'],
    primaryPersonId: 'person-1',
    personIds: ['person-1'],
    excludedFromMaintenance: false,
    onboardingStatus: 'onboarded',
    agentIds: ['agent-1'],
    deletedAt: null,
    changedAt: at,
  },
  'converge.tenant.upserted.v1': {
    tenantId: 'tenant-1',
    version: 7,
    name: 'Contoso',
    slug: 'contoso',
    active: true,
    parentTenantId: 'msp',
    isMsp: false,
    tags: ['managed'],
    settings: {
      onboardingEnabled: true,
      timeZone: 'Europe/Berlin',
      businessHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '17:30' },
      excludedFromCrossTenantDeployments: false,
    },
    updatedAt: '2026-05-04T12:00:00+02:00',
  },
  'converge.tenant.deleted.v1': { tenantId: 'tenant-1', version: 8, deletedAt: at },
  'converge.person.upserted.v1': {
    tenantId: 'tenant-1',
    personId: 'person-1',
    version: 3,
    displayName: 'Ada Lovelace',
    upn: 'ada@contoso.example',
    email: 'ada@contoso.example',
    entraObjectId: '7f1c2d4e-0000-4000-8000-000000000001',
    onPremisesSid: null,
    tags: [],
    updatedAt: at,
  },
  'converge.person.deleted.v1': { tenantId: 'tenant-1', personId: 'person-1', version: 4, deletedAt: at },
  'converge.group.upserted.v1': {
    tenantId: 'tenant-1',
    groupId: 'group-1',
    version: 1,
    displayName: 'Finance',
    entraObjectId: null,
    memberPersonIds: ['person-1'],
    memberGroupIds: ['group-2'],
    updatedAt: at,
  },
  'converge.group.deleted.v1': { tenantId: 'tenant-1', groupId: 'group-1', version: 2, deletedAt: at },
  'converge.psa-agreement.upserted.v1': {
    tenantId: 'tenant-1',
    agreementId: 'agreement-1',
    version: 1,
    provider: 'connectwise-manage',
    name: 'Managed workstations',
    agreementTypeId: 'type-managed',
    startsAt: at,
    endsAt: null,
    additions: [{ productId: 'product-m365', name: 'Microsoft 365', startsAt: at, endsAt: null }],
    updatedAt: at,
  },
  'converge.psa-agreement.deleted.v1': {
    tenantId: 'tenant-1',
    agreementId: 'agreement-1',
    version: 2,
    deletedAt: at,
  },
  'converge.audit.entry-recorded.v1': {
    tenantId: 'tenant-msp',
    actor: { subject: 'msp-admin', impersonatedBy: null },
    entityType: 'script',
    entityId: 'script-1',
    action: 'updated',
    before: '{"body":"echo 1"}',
    after: '{"body":"echo 2"}',
    at,
  },
  'converge.catalog-item.changed.v1': {
    itemKind: 'software',
    itemId: 'software-7zip',
    tenantId: null,
    version: 2,
    name: '7-Zip',
    deleted: false,
    changedAt: at,
  },
  'converge.deployment.changed.v1': {
    deploymentId: 'deployment-1',
    tenantId: 'tenant-1',
    version: 1,
    maintenanceItem: { kind: 'software', id: 'software-7zip' },
    scope: 'single-tenant',
    enabled: true,
    deleted: false,
    changedAt: at,
  },
  'converge.session.status-changed.v1': {
    sessionId: 'session-1',
    computerId: 'computer-1',
    tenantId: 'tenant-1',
    version: 4,
    status: 'passed',
    previousStatus: 'running',
    kind: 'onboarding',
    stage: 'report',
    changedAt: at,
  },
  'converge.session.action-updated.v1': {
    sessionId: 'session-1',
    computerId: 'computer-1',
    tenantId: 'tenant-1',
    version: 3,
    actionId: 'software-reader',
    actionType: 'update',
    status: 'done',
    result: 'success',
    reason: null,
    detected: '1.0',
    desired: '2.0',
    changedAt: at,
  },
  'converge.session.log-line.v1': {
    sessionId: 'session-1',
    computerId: 'computer-1',
    tenantId: 'tenant-1',
    version: 2,
    actionId: 'software-reader',
    commandId: 'session-1:software-reader:detect',
    line: '1.0',
    index: 0,
    loggedAt: at,
  },
  'converge.computer.identification-requested.v1': {
    facts: {
      agentId: facts.agentId,
      tenantId: facts.tenantId,
      provider: facts.provider,
      version: facts.version,
      hardwareUuid: facts.hardwareUuid,
      serialNumber: facts.serialNumber,
      manufacturer: facts.manufacturer,
      osInstallId: facts.osInstallId,
      hostname: facts.hostname,
      os: facts.os,
      osVersion: facts.osVersion,
      deviceType: facts.deviceType,
      loggedOnUpns: facts.loggedOnUpns,
      reportedAt: facts.reportedAt,
    },
    retry: false,
    reply: null,
  },
  'converge.computer.agent-presence-changed.v1': {
    agentId: 'agent-1',
    tenantId: 'tenant-1',
    epoch: 3,
    online: true,
    at,
  },
  'converge.computer.manual-decision-requested.v1': {
    agentId: 'agent-1',
    tenantId: 'tenant-1',
    choice: 'overwrite-existing',
    computerId: 'computer-1',
    computerTenantId: 'tenant-1',
    requestedAt: at,
    reply: { requestId: 'request-1', replyTo: 'converge:identity:replies:replica-1' },
  },
  'converge.computer.change-requested.v1': {
    computerId: 'computer-1',
    tenantId: 'tenant-1',
    change: { kind: 'edit', name: 'Reception PC', tags: ['front-desk'], excludedFromAffinity: true },
    requestedAt: at,
    reply: { requestId: 'request-2', replyTo: 'converge:identity:replies:replica-1' },
  },
  'converge.session.start-requested.v1': {
    sessionId: 'session-1',
    tenantId: 'tenant-1',
    computerId: 'computer-1',
    agentId: 'agent-1',
    kind: 'full',
    trigger: 'technician',
    maintenanceItemId: null,
    scheduleId: null,
    startAt: null,
    notAfter: null,
    requestedAt: at,
    reply: { requestId: 'request-1', replyTo: 'converge:sessions:replies:replica-1' },
  },
  'converge.session.cancel-requested.v1': {
    sessionId: 'session-1',
    reason: 'cancelled by Ada',
    requestedAt: at,
    reply: null,
  },
  'converge.session.agent-connectivity-changed.v1': {
    sessionId: 'session-1',
    agentId: 'agent-1',
    online: false,
    epoch: 3,
    at,
  },
};

function violationOf(run: () => unknown): ContractViolation {
  try {
    run();
  } catch (error) {
    if (error instanceof ContractViolation) return error;
    throw error;
  }
  throw new Error('expected a ContractViolation');
}

describe('event contracts', () => {
  it('every contract accepts its sample payload and every sample has a contract', () => {
    expect(
      allContracts()
        .map((contract) => contract.type)
        .sort(),
    ).toEqual(Object.keys(validPayloads).sort());
    for (const [type, payload] of Object.entries(validPayloads)) {
      const contract = findContract(type);
      expect(contract).toBeDefined();
      expect(parseEventData(contract!, payload)).toEqual(payload);
    }
  });

  it('every type is unique and reads converge.<aggregate>.<event>.v<major>', () => {
    const types = allContracts().map((contract) => contract.type);
    expect(new Set(types).size).toBe(types.length);
    for (const type of types) expect(type).toMatch(/^converge\.[a-z-]+\.[a-z-]+\.v[0-9]+$/);
  });

  it('every topic reads <owner>.<stream> and every contract travels on a known topic', () => {
    const names: string[] = Object.values(topics);
    for (const name of names) expect(name).toMatch(/^[a-z]+\.[a-z]+(?:-[a-z]+)*$/);
    for (const contract of allContracts()) expect(names).toContain(contract.topic);
  });

  it('an invalid payload yields a ContractViolation listing each offending path', () => {
    const violation = violationOf(() =>
      parseEventData(agentFactsReported, {
        ...facts,
        deviceType: 'tablet',
        loggedOnUpns: ['ada@contoso.example', 'not-a-upn'],
        epoch: 0,
        hostname: undefined,
      }),
    );
    expect(violation.eventType).toBe('converge.agent.facts-reported.v1');
    expect(violation.issues.map((issue) => issue.path).sort()).toEqual(
      ['deviceType', 'epoch', 'hostname', 'loggedOnUpns.1'].sort(),
    );
    for (const issue of violation.issues) expect(issue.message).not.toBe('');
    expect(violation.message).toContain('loggedOnUpns.1');
  });

  it('a payload that is not an object is a violation of the payload itself', () => {
    const violation = violationOf(() => parseEventData(agentFactsReported, 'facts'));
    expect(violation.issues).toEqual([{ path: '', message: expect.any(String) }]);
  });

  it('aggregate versions start at 1 and are whole numbers', () => {
    const session = findContract('converge.session.status-changed.v1')!;
    const sample = validPayloads['converge.session.status-changed.v1'] as Record<string, unknown>;
    for (const version of [0, 1.5, '4']) {
      expect(violationOf(() => parseEventData(session, { ...sample, version })).issues).toEqual([
        { path: 'version', message: expect.any(String) },
      ]);
    }
  });

  it('fields a newer producer added are dropped rather than rejected', () => {
    const deleted = findContract('converge.tenant.deleted.v1')!;
    const payload = validPayloads['converge.tenant.deleted.v1'] as Record<string, unknown>;
    expect(parseEventData(deleted, { ...payload, deletedBy: 'someone' })).toEqual(payload);
  });

  it('refuses to define the same event type twice', () => {
    expect(() => defineEvent(agentFactsReported.type, topics.agentEvents, agentFactsReported.schema)).toThrow(
      'defined twice',
    );
  });
});
