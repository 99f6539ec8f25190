import { duration, encryptionKey, loadConfig, serviceConfig, serviceEnv, url } from '@converge/config';

/** The sync service's environment: the shared variables plus the directory sync's. */
export const config = loadConfig(
  serviceEnv
    .extend({
      // The AES-256-GCM key integration credentials are sealed with.
      INTEGRATION_SECRETS_KEY: encryptionKey(),
      // How often every integration is synchronized (ImmyBot syncs people roughly every hour).
      SYNC_INTERVAL: duration().default(3_600_000),
      // How long one sync run may hold its integration's lock before another replica may take over.
      SYNC_LOCK_TTL: duration().default(900_000),
      // Longest `Retry-After` a throttled sync waits for before it gives up on the run.
      SYNC_MAX_RETRY_AFTER: duration().default(120_000),
      GRAPH_BASE_URL: url(['http', 'https']).default('https://graph.microsoft.com'),
      ENTRA_LOGIN_BASE_URL: url(['http', 'https']).default('https://login.microsoftonline.com'),
    })
    .transform((env) => ({
      ...serviceConfig(env),
      integrationSecretsKey: env.INTEGRATION_SECRETS_KEY,
      sync: {
        intervalMs: env.SYNC_INTERVAL,
        lockTtlMs: env.SYNC_LOCK_TTL,
        maxRetryAfterMs: env.SYNC_MAX_RETRY_AFTER,
        graphBaseUrl: env.GRAPH_BASE_URL.replace(/\/$/, ''),
        entraLoginBaseUrl: env.ENTRA_LOGIN_BASE_URL.replace(/\/$/, ''),
      },
    })),
);

export type SyncConfig = typeof config;
