import { loadConfig, port, secretKey, serviceConfig, serviceEnv } from '@converge/config';

/** The deployments service's environment: the shared variables, its gRPC port and the key for secrets. */
export const config = loadConfig(
  serviceEnv
    .extend({
      GRPC_PORT: port().default(8122),
      // AES-256-GCM key for secret task parameter values.
      DEPLOYMENT_SECRETS_KEY: secretKey(),
    })
    .transform((env) => ({
      ...serviceConfig(env),
      grpc: { host: env.HOST, port: env.GRPC_PORT },
      secretsKey: env.DEPLOYMENT_SECRETS_KEY,
    })),
);

export type Config = typeof config;
