import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stack, uniqueId, waitFor } from '@converge/testing';

// Every service is started as a real process against the shared Kafka and FerretDB but a Redis of
// this test's own, so stopping that Redis cannot disturb other tests running at the same time.
const services = ['identity', 'deployments', 'sessions', 'agent-gateway', 'sync'] as const;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

function startRedis(port: number): ChildProcess {
  return spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
}

async function readiness(port: number): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3_000) });
    return response.status;
  } catch {
    return 0;
  }
}

const allAnswer = (ports: number[], status: number) => async () =>
  (await Promise.all(ports.map(readiness))).every((s) => s === status);

describe('service readiness', () => {
  const running: { name: string; port: number; process: ChildProcess }[] = [];
  let redisPort: number;
  let redis: ChildProcess;

  beforeAll(async () => {
    redisPort = await freePort();
    redis = startRedis(redisPort);
    const runId = uniqueId('readyz');
    for (const name of services) {
      const port = await freePort();
      const child = spawn(process.execPath, [`services/${name}/src/main.ts`], {
        cwd: repoRoot,
        env: {
          ...process.env,
          PORT: String(port),
          LOG_LEVEL: 'warn',
          KAFKA_BROKERS: stack.kafkaBrokers.join(','),
          MONGO_URI: stack.mongoUri,
          MONGO_DATABASE_PREFIX: runId.replace(/-/g, '_'),
          REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          OIDC_ISSUER: stack.oidcIssuer,
          OIDC_AUDIENCE: 'api://converge',
          // Extra listeners on free ports, and the keys the services that encrypt secrets require.
          AGENT_PORT: '0',
          AGENT_GRPC_PORT: '0',
          GRPC_PORT: '0',
          DEPLOYMENT_SECRETS_KEY: randomBytes(32).toString('base64'),
          INTEGRATION_SECRETS_KEY: randomBytes(32).toString('base64'),
          COMMAND_ID_KEY: randomBytes(32).toString('base64'),
          COMMAND_SECRETS_KEY: randomBytes(32).toString('base64'),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      running.push({ name, port, process: child });
    }
    await waitFor(
      allAnswer(
        running.map((s) => s.port),
        200,
      ),
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  }, 120_000);

  afterAll(async () => {
    const alive = [...running.map((s) => s.process), redis].filter(
      (p) => p.exitCode === null && p.signalCode === null,
    );
    const exited = alive.map((p) => once(p, 'exit'));
    for (const p of alive) p.kill('SIGKILL');
    await Promise.all(exited);
  });

  it('every service turns not ready when Redis stops and ready again when it returns', async () => {
    const ports = running.map((s) => s.port);
    redis.kill('SIGTERM');
    await once(redis, 'exit');
    await waitFor(allAnswer(ports, 503), { timeoutMs: 15_000, intervalMs: 200 });

    redis = startRedis(redisPort);
    await waitFor(allAnswer(ports, 200), { timeoutMs: 30_000, intervalMs: 200 });
  }, 60_000);

  it('every service stops on SIGTERM within its shutdown deadline and exits cleanly', async () => {
    const exits = running.map((s) => once(s.process, 'exit') as Promise<[number | null, string | null]>);
    for (const service of running) service.process.kill('SIGTERM');
    const codes = (await Promise.all(exits)).map(([code]) => code);
    expect(codes).toEqual(services.map(() => 0));
  }, 60_000);
});
