// Development OpenID Connect provider: loopback only, never for production (see README.md).
import { createServer } from 'node:http';
import { loadConfig, port, z } from '@converge/config';
import { createLogger } from '@converge/telemetry';
import { createDevProvider } from './dev-provider.ts';
import { loadOrCreateSigningKeys } from './signing-keys.ts';

const host = '127.0.0.1';

const config = loadConfig(
  z
    .object({
      OIDC_PORT: port().default(18080),
      // Where the signing keys are kept, so tokens stay valid across restarts.
      OIDC_STATE_DIR: z.string().min(1),
    })
    .transform((env) => ({ port: env.OIDC_PORT, stateDir: env.OIDC_STATE_DIR })),
);
const logger = createLogger({ service: 'dev-oidc' });
const issuer = `http://${host}:${config.port}`;
const provider = createDevProvider({ issuer, jwks: await loadOrCreateSigningKeys(config.stateDir) });
provider.on('server_error', (_ctx, error) => {
  logger.error({ err: error.message }, 'server error');
});

const handle = provider.callback();
const server = createServer((req, res) => {
  void handle(req, res);
});
server.listen(config.port, host, () => {
  logger.info({ issuer }, 'development OIDC provider listening (never for production)');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
