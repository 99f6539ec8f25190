// The whole installation on this machine: the five services as their own processes, sharing one database
// prefix, one topic prefix and one access-key prefix (so they talk to each other and to no other test run),
// and a real agent process that runs real bash scripts.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createBus } from '@converge/bus';
import { topics } from '@converge/contracts';
import { createLogger } from '@converge/telemetry';
import { getAccessToken, stack, startService, uniqueId, type ServiceProcess } from '@converge/testing';

export type ServiceName = 'sync' | 'identity' | 'deployments' | 'agent-gateway' | 'sessions';

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface Agent {
  agentId: string;
  child: ChildProcess;
  /** The agent's JSON log lines, for diagnosing a failure. */
  logs: string[];
}

export interface Installation {
  services: Record<ServiceName, ServiceProcess>;
  /** What every database of this installation is named after (`<prefix>_<service>`). */
  databasePrefix: string;
  /** What every Kafka topic of this installation starts with. */
  topicPrefix: string;
  /** Calls a service's REST API as an MSP admin. */
  api(service: ServiceName, method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** The MSP admin's access token the API calls carry. */
  token: string;
  /** Enrolls a real agent into the tenant with the facts given, then runs it. */
  startAgent(tenantId: string, facts: Record<string, unknown>): Promise<Agent>;
  /** A crash of the sessions process (SIGKILL), then a new one with the same environment. */
  crashAndRestartSessions(): Promise<void>;
  /** Recent log lines of every process, for a failure message. */
  recentLogs(): string;
  stop(): Promise<void>;
}

const agentMain = 'agent/src/main.ts';

/** Every topic of the installation, created up front so no service waits for another's start to create it. */
const allTopics = Object.values(topics);

export async function startInstallation(): Promise<Installation> {
  const run = uniqueId('scenario');
  const shared = {
    MONGO_DATABASE_PREFIX: run.replace(/-/g, '_'),
    KAFKA_TOPIC_PREFIX: `${run}.`,
    ACCESS_KEY_PREFIX: `${run}:access:`,
  };
  const bus = createBus({
    brokers: stack.kafkaBrokers,
    clientId: run,
    source: 'scenario-test',
    logger: createLogger({ service: 'scenario-test', level: 'silent' }),
    topicPrefix: shared.KAFKA_TOPIC_PREFIX,
  });
  await bus.connect();
  await bus.ensureTopics(allTopics.map((topic) => ({ topic, partitions: 3 })));
  await bus.disconnect();

  const start = (name: ServiceName, env: Record<string, string>) =>
    startService({
      entry: `services/${name}/src/main.ts`,
      name,
      env: { ...shared, ...env },
      timeoutMs: 60_000,
    });

  // Deployments seals secret task parameters with it and the gateway opens them; sessions never gets it.
  const commandSecretsKey = randomBytes(32).toString('base64');
  const deploymentsStarting = start('deployments', {
    DEPLOYMENT_SECRETS_KEY: randomBytes(32).toString('base64'),
    COMMAND_SECRETS_KEY: commandSecretsKey,
    GRPC_PORT: '0',
  });
  const sessionsEnv = deploymentsStarting.then(async (deployments) => {
    const listening = await deployments.waitForLog((line) => line.msg === 'grpc listening');
    return {
      DEPLOYMENTS_GRPC_ADDRESS: `127.0.0.1:${String(listening.grpcPort)}`,
      SESSION_TICK_INTERVAL: '250ms',
    };
  });
  const starting = await Promise.allSettled([
    start('sync', { INTEGRATION_SECRETS_KEY: randomBytes(32).toString('base64') }),
    start('identity', {}),
    deploymentsStarting,
    start('agent-gateway', {
      AGENT_PORT: '0',
      AGENT_GRPC_PORT: '0',
      REPLICA_ID: `${run}-gateway`,
      REDIS_KEY_PREFIX: `${run}-gateway`,
      COMMANDS_GROUP_ID: `${run}.agent-gateway`,
      COMMAND_SECRETS_KEY: commandSecretsKey,
      // A loaded two-core machine may stall a few seconds; the idle close is 2.5 heartbeats.
      HEARTBEAT_INTERVAL: '5s',
      PRESENCE_FLUSH_INTERVAL: '100ms',
    }),
    sessionsEnv.then((env) => start('sessions', env)),
  ]);
  const failed = starting.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) {
    // Leave no process behind, or jest never exits.
    await Promise.all(
      starting.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.stop()] : [])),
    );
    throw failed.reason;
  }
  const [sync, identity, deployments, gateway, sessions] = starting.map((outcome) =>
    outcome.status === 'fulfilled' ? outcome.value : undefined,
  ) as [ServiceProcess, ServiceProcess, ServiceProcess, ServiceProcess, ServiceProcess];
  const services: Record<ServiceName, ServiceProcess> = {
    sync,
    identity,
    deployments,
    'agent-gateway': gateway,
    sessions,
  };
  const listeners = await gateway.waitForLog((line) => line.msg === 'agent listeners ready');
  const agentServer = `http://127.0.0.1:${String(listeners.agentPort)}`;
  const restartEnv = await sessionsEnv;
  const token = await getAccessToken('msp-admin');
  const agents: Agent[] = [];

  const runAgent = (args: string[], logs: string[]) => {
    const child = spawn(process.execPath, [agentMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', (line) => logs.push(line));
    createInterface({ input: child.stderr }).on('line', (line) => logs.push(line));
    return child;
  };

  const installation: Installation = {
    services,
    databasePrefix: shared.MONGO_DATABASE_PREFIX,
    topicPrefix: shared.KAFKA_TOPIC_PREFIX,
    token,
    async api(service, method, path, body) {
      const response = await fetch(`${services[service].baseUrl}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
    },
    async startAgent(tenantId, facts) {
      const created = await installation.api('agent-gateway', 'POST', '/install-tokens', { tenantId });
      if (created.status !== 201) throw new Error(`install token not created: ${JSON.stringify(created)}`);
      const installToken = (created.body as { token: string }).token;
      const dir = mkdtempSync(join(tmpdir(), 'converge-scenario-agent-'));
      const stateDir = join(dir, 'state');
      const factsFile = join(dir, 'facts.json');
      writeFileSync(factsFile, JSON.stringify(facts));
      const logs: string[] = [];
      const enroll = runAgent(
        [
          'enroll',
          '--server',
          agentServer,
          '--token',
          installToken,
          '--state-dir',
          stateDir,
          '--facts',
          factsFile,
        ],
        logs,
      );
      const [code] = (await once(enroll, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`agent enrollment exited with ${String(code)}: ${logs.join('\n')}`);
      const credential = JSON.parse(readFileSync(join(stateDir, 'credential.json'), 'utf8')) as {
        agentId: string;
      };
      const agent = {
        agentId: credential.agentId,
        child: runAgent(['run', '--state-dir', stateDir, '--facts', factsFile], logs),
        logs,
      };
      agents.push(agent);
      return agent;
    },
    async crashAndRestartSessions() {
      await services.sessions.kill();
      services.sessions = await start('sessions', restartEnv);
    },
    recentLogs() {
      const serviceLogs = Object.entries(services).map(
        ([name, service]) =>
          `--- ${name}\n${service.logs
            .slice(-30)
            .map((line) => JSON.stringify(line))
            .join('\n')}`,
      );
      const agentLogs = agents.map(
        (agent) => `--- agent ${agent.agentId}\n${agent.logs.slice(-30).join('\n')}`,
      );
      return [...serviceLogs, ...agentLogs].join('\n');
    },
    async stop() {
      await Promise.all(
        agents.map(async ({ child }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          await once(child, 'exit');
        }),
      );
      await Promise.all(Object.values(services).map((service) => service.stop()));
    },
  };
  return installation;
}

/** Facts of a workstation no other test has: the real agent reports these instead of this VM's own. */
export function workstationFacts(hostname: string): Record<string, unknown> {
  return {
    hardwareUuid: randomUUID().toUpperCase(),
    serialNumber: `SN-${randomUUID().slice(0, 8)}`,
    osInstallId: randomUUID(),
    hostname,
    deviceType: 'workstation',
  };
}
