import { duration, loadConfig, secretKey, serviceConfig, serviceEnv, z } from '@converge/config';

/**
 * The sessions service's environment: the shared variables, where the deployments service answers `Resolve`,
 * and the orchestration's timings.
 */
export const config = loadConfig(
  serviceEnv
    .extend({
      // host:port of the deployments service's gRPC ResolutionService.
      DEPLOYMENTS_GRPC_ADDRESS: z
        .string()
        .regex(/^[\w.-]+:\d+$/, 'must be host:port')
        .default('127.0.0.1:8122'),
      // Deadline of one Resolve call; a session whose plan did not come is asked for again later.
      RESOLVE_DEADLINE: duration().default(10_000),
      // How often owned sessions (plans to ask for, starts, command deadlines, windows) and schedules are looked at.
      SESSION_TICK_INTERVAL: duration().default(500),
      SCHEDULE_TICK_INTERVAL: duration().default(15_000),
      // The key of the tags of command ids, shared with the agent gateway (packages/contracts command-ids.ts).
      COMMAND_ID_KEY: secretKey(),
    })
    .transform((env) => ({
      ...serviceConfig(env),
      deployments: { address: env.DEPLOYMENTS_GRPC_ADDRESS, resolveDeadlineMs: env.RESOLVE_DEADLINE },
      tickIntervalMs: env.SESSION_TICK_INTERVAL,
      scheduleTickIntervalMs: env.SCHEDULE_TICK_INTERVAL,
      commandIdKey: env.COMMAND_ID_KEY,
      consumer: {
        // One consumer group per installation database, so a second installation on the same broker
        // (or a test run) reads every event itself.
        groupPrefix: `${env.MONGO_DATABASE_PREFIX}.sessions`,
      },
    })),
);

export type SessionsConfig = typeof config;
