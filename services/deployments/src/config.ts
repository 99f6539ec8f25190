import { loadConfig, port, serviceConfig, serviceEnv, z } from '@converge/config';

/** The deployments service's environment: the shared variables, its gRPC port and the key for secrets. */
export const config = loadConfig(
  serviceEnv
    .extend({
      GRPC_PORT: port().default(8122),
      // AES-256-GCM key for secret task parameter values: 32 bytes, base64. No default: a key everyone knows
      // would encrypt nothing.
      DEPLOYMENT_SECRETS_KEY: z
        .string()
        .refine((text) => /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, 'base64').length === 32, {
          error: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)',
        }),
    })
    .transform((env) => ({
      ...serviceConfig(env),
      grpc: { host: env.HOST, port: env.GRPC_PORT },
      secretsKey: Buffer.from(env.DEPLOYMENT_SECRETS_KEY, 'base64'),
    })),
);

export type Config = typeof config;
