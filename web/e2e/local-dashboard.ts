// The whole local system behind the dashboard, for the browser tests and for trying the dashboard by hand:
//   node web/e2e/local-dashboard.ts     (from the repository root; stops on Ctrl-C)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devClients, devUsers } from '@converge/dev-oidc';
import { getAccessToken, stack, startService, type ServiceProcess } from '@converge/testing';
import { startLocalSystem, type LocalSystem } from '../test/local-system.ts';

/** The development provider's dashboard client redirects to this port only. */
export const dashboardPort = 5173;
export const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;

export interface LocalAgent {
  hostname: string;
  tenantId: string;
  process: ChildProcess;
}

export interface LocalDashboard {
  system: LocalSystem;
  web: ServiceProcess;
  agents: LocalAgent[];
  stop(): Promise<void>;
}

async function run(args: string[]): Promise<void> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`);
}

/** A real agent process, enrolled into `tenantId` with an install token made through the API. */
async function startAgent(system: LocalSystem, tenantId: string, hostname: string): Promise<LocalAgent> {
  const gateway = system.services['agent-gateway'];
  const listeners = await gateway.waitForLog((line) => line.msg === 'agent listeners ready');
  const partner = await getAccessToken('partner');
  const response = await fetch(`${gateway.baseUrl}/api/v1/install-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${partner}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId, maxUses: 1 }),
  });
  if (!response.ok)
    throw new Error(`install token for ${tenantId}: ${response.status} ${await response.text()}`);
  const { token } = (await response.json()) as { token: string };
  const stateDir = await mkdtemp(join(tmpdir(), 'converge-e2e-agent-'));
  const factsFile = join(stateDir, 'facts.json');
  await writeFile(
    factsFile,
    JSON.stringify({ hardwareUuid: randomUUID(), serialNumber: hostname, hostname }),
  );
  const server = `http://127.0.0.1:${String(listeners.agentPort)}`;
  const grpc = `127.0.0.1:${String(listeners.agentGrpcPort)}`;
  const agentMain = 'agent/src/main.ts';
  await run([
    agentMain,
    'enroll',
    '--server',
    server,
    '--grpc',
    grpc,
    '--token',
    token,
    '--state-dir',
    stateDir,
  ]);
  const child = spawn(
    process.execPath,
    [agentMain, 'run', '--state-dir', stateDir, '--grpc', grpc, '--facts', factsFile],
    { stdio: 'ignore' },
  );
  child.on('exit', () => void rm(stateDir, { recursive: true, force: true }));
  return { hostname, tenantId, process: child };
}

/** Every service, one agent in the MSP's tenant and one in a customer's, and the dashboard on its port. */
export async function startLocalDashboard(): Promise<LocalDashboard> {
  const system = await startLocalSystem();
  const agents: LocalAgent[] = [];
  try {
    const run = system.env.MONGO_DATABASE_PREFIX ?? 'e2e';
    agents.push(await startAgent(system, devUsers['msp-admin'].tenantId, `msp-${run.slice(-6)}`));
    agents.push(await startAgent(system, devUsers['tenant-admin'].tenantId, `contoso-${run.slice(-6)}`));
    const web = await startService({
      entry: 'web/server/main.ts',
      name: 'web',
      env: {
        PORT: String(dashboardPort),
        PUBLIC_URL: dashboardUrl,
        OIDC_ISSUER: stack.oidcIssuer,
        OIDC_CLIENT_ID: devClients.dashboard.clientId,
        SESSION_SECRET: randomBytes(32).toString('base64'),
        IDENTITY_URL: system.upstreams.identity.href,
        DEPLOYMENTS_URL: system.upstreams.deployments.href,
        SESSIONS_URL: system.upstreams.sessions.href,
        AGENT_GATEWAY_URL: system.upstreams['agent-gateway'].href,
        SYNC_URL: system.upstreams.sync.href,
      },
    });
    return {
      system,
      web,
      agents,
      stop: async () => {
        for (const agent of agents) agent.process.kill('SIGTERM');
        await web.stop();
        await system.stop();
      },
    };
  } catch (error) {
    for (const agent of agents) agent.process.kill('SIGTERM');
    await system.stop();
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const dashboard = await startLocalDashboard();
  console.log(`dashboard: ${dashboardUrl} (sign in as ${Object.keys(devUsers).join(', ')}; Ctrl-C stops)`);
  process.once('SIGINT', () => void dashboard.stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void dashboard.stop().then(() => process.exit(0)));
}
