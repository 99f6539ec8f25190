import { z } from 'zod';
import { ConfigError } from './load-config.ts';
import { bool, csv, duration, logLevel, port, url, type LogLevel } from './env-fields.ts';

/**
 * The variables every service reads. A service extends it (`serviceEnv.extend({...})`) and maps the result
 * to its nested config, usually starting from `serviceConfig(env)`. Connection strings have no defaults:
 * they may carry credentials, and a service pointed at the wrong store must not start.
 */
export const serviceEnv = z.object({
  // Loopback by default so a service started by hand is not exposed; the chart sets 0.0.0.0.
  HOST: z.string().default('127.0.0.1'),
  PORT: port().default(8080),
  LOG_LEVEL: logLevel().default('info'),
  KAFKA_BROKERS: csv().refine((brokers) => brokers.length > 0, { error: 'must list at least one broker' }),
  // Partitions of the topics the service creates: the ceiling of consumer parallelism for them.
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(12),
  // Prepended to every topic name: several installations (or test runs) can share one broker.
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
    .default(''),
  // TLS to the brokers, and SASL (a managed Kafka, Strimzi's SCRAM listener). The password is a secret: the
  // chart reads it from a Secret.
  KAFKA_TLS: bool().default(false),
  KAFKA_SASL_MECHANISM: z
    .enum(['plain', 'scram-sha-256', 'scram-sha-512'], {
      error: 'must be one of plain, scram-sha-256, scram-sha-512',
    })
    .optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  MONGO_URI: z.string().regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URI'),
  // Each service owns the database `<prefix>_<service>`; tests run with their own prefix.
  MONGO_DATABASE_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/, 'must be lowercase letters, digits and _')
    .default('converge'),
  REDIS_URL: url(['redis', 'rediss']),
  OIDC_ISSUER: url(['http', 'https']),
  OIDC_AUDIENCE: z.string().min(1),
  // The JWT header `typ` of the issuer's access tokens: `at+jwt` (RFC 9068) by default; `JWT` for Entra ID v2
  // and Keycloak.
  OIDC_TOKEN_TYPES: csv()
    .refine((types) => types.length > 0, { error: 'must list at least one token type' })
    .default(['at+jwt']),
  // The delegated scope a user's token must carry for the API (Entra's conventional name by default).
  OIDC_SCOPE: z.string().min(1).default('access_as_user'),
  OIDC_CLOCK_TOLERANCE: duration()
    .refine((ms) => ms <= 5 * 60_000, { error: 'must be at most 5m' })
    .default(60_000),
  OIDC_MAX_TOKEN_LIFETIME: duration()
    .refine((ms) => ms >= 60_000, { error: 'must be at least 1m' })
    .default(24 * 60 * 60_000),
  // Where sync writes each principal's effective roles and tenant scope; every service reads them.
  ACCESS_KEY_PREFIX: z.string().min(1).default('converge:access:'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(['http', 'https']).optional(),
  // Under Kubernetes' default 30 s termination grace period, leaving time for the kill after it.
  SHUTDOWN_TIMEOUT: duration().default(20_000),
});

export type ServiceEnv = z.infer<typeof serviceEnv>;

/** SASL credentials of the Kafka clients, when the brokers ask for them. */
export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface ServiceConfig {
  http: { host: string; port: number };
  logLevel: LogLevel;
  kafka: { brokers: string[]; partitions: number; topicPrefix: string; tls: boolean; sasl?: KafkaSasl };
  mongo: { uri: string; databasePrefix: string };
  redis: { url: string };
  oidc: {
    issuer: string;
    audience: string;
    tokenTypes: string[];
    scope: string;
    clockToleranceMs: number;
    maxTokenLifetimeMs: number;
  };
  access: { keyPrefix: string };
  otel: { tracesEndpoint: string | undefined };
  shutdownTimeoutMs: number;
}

/** The nested form of the shared variables. */
export function serviceConfig(env: ServiceEnv): ServiceConfig {
  if (env.KAFKA_SASL_MECHANISM !== undefined) {
    const missing = (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).filter((name) => !env[name]);
    if (missing.length > 0)
      throw new ConfigError(
        missing.map((variable) => ({ variable, reason: 'is required with KAFKA_SASL_MECHANISM' })),
      );
  }
  return {
    http: { host: env.HOST, port: env.PORT },
    logLevel: env.LOG_LEVEL,
    kafka: {
      brokers: env.KAFKA_BROKERS,
      partitions: env.KAFKA_PARTITIONS,
      topicPrefix: env.KAFKA_TOPIC_PREFIX,
      tls: env.KAFKA_TLS,
      ...(env.KAFKA_SASL_MECHANISM
        ? {
            sasl: {
              mechanism: env.KAFKA_SASL_MECHANISM,
              username: env.KAFKA_SASL_USERNAME ?? '',
              password: env.KAFKA_SASL_PASSWORD ?? '',
            },
          }
        : {}),
    },
    mongo: { uri: env.MONGO_URI, databasePrefix: env.MONGO_DATABASE_PREFIX },
    redis: { url: env.REDIS_URL },
    oidc: {
      issuer: env.OIDC_ISSUER,
      audience: env.OIDC_AUDIENCE,
      tokenTypes: env.OIDC_TOKEN_TYPES,
      scope: env.OIDC_SCOPE,
      clockToleranceMs: env.OIDC_CLOCK_TOLERANCE,
      maxTokenLifetimeMs: env.OIDC_MAX_TOKEN_LIFETIME,
    },
    access: { keyPrefix: env.ACCESS_KEY_PREFIX },
    otel: { tracesEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT,
  };
}
