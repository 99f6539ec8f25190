// Creates the development tenants in the directory (`npm start` runs it once sync is ready); see README.md.
import { loadConfig, url, z } from '@converge/config';
import { createLogger } from '@converge/telemetry';
import { seedDevTenants } from './dev-tenants.ts';

const config = loadConfig(
  z
    .object({
      OIDC_ISSUER: url(['http', 'https']).default('http://127.0.0.1:18080'),
      SYNC_URL: url(['http', 'https']).default('http://127.0.0.1:8105'),
    })
    .transform((env) => ({ issuer: env.OIDC_ISSUER, syncUrl: env.SYNC_URL.replace(/\/$/, '') })),
);
const logger = createLogger({ service: 'dev-oidc' });
const created = await seedDevTenants(config);
logger.info({ created }, 'development tenants are in the directory');
