import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { startService, uniqueId, type ServiceProcess } from '@converge/testing';
import type { ApiService } from '../server/api-services.ts';

export interface LocalSystem {
  services: Record<ApiService, ServiceProcess>;
  upstreams: Record<ApiService, URL>;
  /** The environment every service of this system runs with (its own databases, topics and access keys). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Every service as its own process against the local stack, on free ports, with databases, topics and access
 * keys of this run only, so a test run never sees another's data.
 */
export async function startLocalSystem(extraEnv: Record<string, string> = {}): Promise<LocalSystem> {
  const run = uniqueId('web').replace(/-/g, '_');
  const env = {
    MONGO_DATABASE_PREFIX: run,
    KAFKA_TOPIC_PREFIX: `${run}.`,
    KAFKA_PARTITIONS: '2',
    ACCESS_KEY_PREFIX: `${run}:access:`,
    DEPLOYMENT_SECRETS_KEY: randomBytes(32).toString('base64'),
    INTEGRATION_SECRETS_KEY: randomBytes(32).toString('base64'),
    ...extraEnv,
  };
  const start = (name: ApiService, more: Record<string, string> = {}) =>
    startService({
      entry: `services/${name}/src/main.ts`,
      name,
      env: { ...env, ...more },
      timeoutMs: 60_000,
    });

  // All at once: a service waits for the topics of the others before it is ready. Sessions asks deployments
  // for plans over gRPC, so deployments' gRPC port is chosen here rather than by the OS.
  const grpcPort = await freePort();
  // Deployments seals secret parameters for the gateway with it; sessions, which carries them, never holds it.
  const commandSecretsKey = randomBytes(32).toString('base64');
  const started = await Promise.allSettled([
    start('identity'),
    start('deployments', { GRPC_PORT: String(grpcPort), COMMAND_SECRETS_KEY: commandSecretsKey }),
    start('sessions', { DEPLOYMENTS_GRPC_ADDRESS: `127.0.0.1:${grpcPort}` }),
    start('agent-gateway', { AGENT_PORT: '0', AGENT_GRPC_PORT: '0', COMMAND_SECRETS_KEY: commandSecretsKey }),
    start('sync'),
  ]);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(
      started.map((result) => (result.status === 'fulfilled' ? result.value.kill() : Promise.resolve())),
    );
    throw failed.reason;
  }
  const [identity, deployments, sessions, agentGateway, sync] = started.map(
    (result) => (result as PromiseFulfilledResult<ServiceProcess>).value,
  ) as [ServiceProcess, ServiceProcess, ServiceProcess, ServiceProcess, ServiceProcess];
  const services = { identity, deployments, sessions, 'agent-gateway': agentGateway, sync };
  const upstreams = Object.fromEntries(
    Object.entries(services).map(([name, service]) => [name, new URL(service.baseUrl)]),
  ) as Record<ApiService, URL>;
  return {
    services,
    upstreams,
    env,
    stop: async () => {
      await Promise.all(Object.values(services).map((service) => service.stop()));
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
