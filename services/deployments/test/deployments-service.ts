// Starts the deployments service as its own process against the local stack, with real tokens, and produces
// the computer and directory events other services own (their topics are created here, as those services
// would at start).
import { randomBytes } from 'node:crypto';
import type { Role } from '@converge/auth';
import { createBus, type Bus } from '@converge/bus';
import {
  computerChanged,
  tenantUpserted,
  topics,
  type ComputerChanged,
  type TenantUpserted,
} from '@converge/contracts';
import { createCommandSecrets, type CommandSecrets } from '@converge/store';
import { createLogger } from '@converge/telemetry';
import { getAccessToken, stack, startService, uniqueId, type ServiceProcess } from '@converge/testing';

export interface Api {
  get(path: string): Promise<Response>;
  post(path: string, body: unknown): Promise<Response>;
  put(path: string, body: unknown): Promise<Response>;
  delete(path: string): Promise<Response>;
}

export interface DeploymentsUnderTest {
  service: ServiceProcess;
  /** The prefix of this run's topics, for another service that must read them. */
  topicPrefix: string;
  grpcAddress: string;
  /** The service's `COMMAND_SECRETS_KEY`, to open what it seals for the gateway as the gateway would. */
  commandSecrets: CommandSecrets;
  bus: Bus;
  as(role: Role): Promise<Api>;
  stop(): Promise<void>;
}

export async function startDeployments(): Promise<DeploymentsUnderTest> {
  // Topics of this run only: other test files publish computer and directory events at the same time.
  const topicPrefix = `${uniqueId('deployments-test')}.`;
  const bus = createBus({
    topicPrefix,
    brokers: [...stack.kafkaBrokers],
    clientId: uniqueId('deployments-test'),
    source: 'deployments-test',
    logger: createLogger({ service: 'deployments-test', level: 'warn' }),
  });
  await bus.connect();
  await bus.ensureTopics([
    { topic: topics.computerEvents, partitions: 3 },
    { topic: topics.directoryEvents, partitions: 3 },
  ]);
  const commandSecretsKey = randomBytes(32);
  const service = await startService({
    entry: 'services/deployments/src/main.ts',
    name: 'deployments',
    env: {
      MONGO_DATABASE_PREFIX: uniqueId('deployments').replace(/-/g, '_'),
      DEPLOYMENT_SECRETS_KEY: randomBytes(32).toString('base64'),
      COMMAND_SECRETS_KEY: commandSecretsKey.toString('base64'),
      GRPC_PORT: '0',
      KAFKA_TOPIC_PREFIX: topicPrefix,
    },
  });
  const listening = await service.waitForLog((line) => line.msg === 'grpc listening');
  const tokens = new Map<Role, string>();
  return {
    service,
    topicPrefix,
    grpcAddress: `127.0.0.1:${String(listening.grpcPort)}`,
    commandSecrets: createCommandSecrets(commandSecretsKey),
    bus,
    async as(role) {
      let token = tokens.get(role);
      if (token === undefined) tokens.set(role, (token = await getAccessToken(role)));
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`${service.baseUrl}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      return {
        get: (path) => call('GET', path),
        post: (path, body) => call('POST', path, body),
        put: (path, body) => call('PUT', path, body),
        delete: (path) => call('DELETE', path),
      };
    },
    async stop() {
      await service.stop();
      await bus.disconnect();
    },
  };
}

const at = '2026-05-04T10:00:00.000Z';

export function computerSnapshot(
  fields: Partial<ComputerChanged> & { computerId: string; tenantId: string },
) {
  const computer: ComputerChanged = {
    version: 1,
    name: fields.computerId.slice(0, 60),
    deviceType: 'workstation',
    isPrimaryDomainController: false,
    os: 'windows',
    osVersion: '10.0.26100',
    serialNumber: null,
    tags: [],
    primaryPersonId: null,
    personIds: [],
    excludedFromMaintenance: false,
    onboardingStatus: 'onboarded',
    agentIds: [],
    deletedAt: null,
    changedAt: at,
    ...fields,
  };
  return { subject: computer.computerId, tenantId: computer.tenantId, data: computer };
}

export function tenantSnapshot(fields: Partial<TenantUpserted> & { tenantId: string }) {
  const tenant: TenantUpserted = {
    version: 1,
    name: fields.tenantId,
    slug: 'tenant',
    active: true,
    parentTenantId: null,
    isMsp: false,
    tags: [],
    settings: {
      onboardingEnabled: false,
      timeZone: 'Europe/Berlin',
      businessHours: null,
      excludedFromCrossTenantDeployments: false,
    },
    updatedAt: at,
    ...fields,
  };
  return { subject: tenant.tenantId, tenantId: tenant.tenantId, data: tenant };
}

export { computerChanged, tenantUpserted };

/** A script every software and task here can use. */
export const powershellScript = {
  language: 'powershell',
  executionContext: 'system',
  body: 'Get-ItemPropertyValue HKLM:\\SOFTWARE\\Vendor -Name Version',
  timeoutSeconds: 300,
};

export function softwareBody(name: string, detectionScriptId: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    detectionScriptId,
    installScriptId: detectionScriptId,
    // A session needs both to act on the software (Resolve refuses a plan missing either).
    uninstallScriptId: detectionScriptId,
    upgradeStrategy: 'install-over',
    rebootNeeded: false,
    versions: [
      { version: '1.0', installerReference: 'https://example.test/1.0.msi' },
      { version: '2.0', installerReference: 'https://example.test/2.0.msi', releasedAt: at },
    ],
    prerequisites: [],
    ...extra,
  };
}
