import { loadConfig, port, secretKey, serviceConfig, serviceEnv } from '@converge/config';

/** The deployments service's environment: the shared variables, its gRPC port and the keys for secrets. */
export const config = loadConfig(
  serviceEnv
    .extend({
      GRPC_PORT: port().default(8122),
      // Secret task parameter values at rest.
      DEPLOYMENT_SECRETS_KEY: secretKey(),
      // Secret parameter values in a session's plan and commands, which only the agent gateway opens (it holds
      // this key too; the sessions service does not): docs/security.md, issue 12, item 1.
      COMMAND_SECRETS_KEY: secretKey(),
    })
    .refine((env) => !env.COMMAND_SECRETS_KEY.equals(env.DEPLOYMENT_SECRETS_KEY), {
      error: 'COMMAND_SECRETS_KEY must differ from DEPLOYMENT_SECRETS_KEY: the agent gateway holds it',
    })
    .transform((env) => ({
      ...serviceConfig(env),
      grpc: { host: env.HOST, port: env.GRPC_PORT },
      secretsKey: env.DEPLOYMENT_SECRETS_KEY,
      commandSecretsKey: env.COMMAND_SECRETS_KEY,
    })),
);

export type Config = typeof config;
