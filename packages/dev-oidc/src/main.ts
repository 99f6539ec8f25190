// Development OpenID Connect provider: loopback only, never for production (see README.md).
import { createServer } from 'node:http';
import { createDevProvider } from './dev-provider.ts';
import { loadOrCreateSigningKeys } from './signing-keys.ts';

const host = '127.0.0.1';

function readConfig(env: NodeJS.ProcessEnv): { port: number; stateDir: string } {
  const problems: string[] = [];
  const port = Number(env.OIDC_PORT ?? '18080');
  if (!Number.isInteger(port) || port <= 0 || port > 65535) problems.push('OIDC_PORT must be a TCP port');
  const stateDir = env.OIDC_STATE_DIR ?? '';
  if (stateDir === '') problems.push('OIDC_STATE_DIR is required (where the signing keys are kept)');
  if (problems.length > 0) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  return { port, stateDir };
}

function log(level: 'info' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ level, time: Date.now(), name: 'dev-oidc', msg, ...fields }));
}

const config = readConfig(process.env);
const issuer = `http://${host}:${config.port}`;
const provider = createDevProvider({ issuer, jwks: await loadOrCreateSigningKeys(config.stateDir) });
provider.on('server_error', (_ctx, error) => {
  log('error', 'server error', { error: error.message });
});

const handle = provider.callback();
const server = createServer((req, res) => {
  void handle(req, res);
});
server.listen(config.port, host, () => {
  log('info', 'development OIDC provider listening (never for production)', { issuer });
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
