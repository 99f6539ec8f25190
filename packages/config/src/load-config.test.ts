import { describe, expect, it } from '@jest/globals';
import {
  bool,
  ConfigError,
  csv,
  duration,
  loadConfig,
  logLevel,
  port,
  secretKey,
  serviceConfig,
  serviceEnv,
  url,
  z,
} from './index.ts';

const validEnv = {
  KAFKA_BROKERS: '127.0.0.1:19092, 127.0.0.1:19093',
  MONGO_URI: 'mongodb://user:s3cret-pass@127.0.0.1:27117/',
  REDIS_URL: 'redis://127.0.0.1:16379',
  OIDC_ISSUER: 'http://127.0.0.1:18080',
  OIDC_AUDIENCE: 'converge-api',
};

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('parses the shared service variables into a nested config with safe defaults', () => {
    const config = loadConfig(serviceEnv.transform(serviceConfig), validEnv);
    expect(config).toEqual({
      http: { host: '127.0.0.1', port: 8080 },
      logLevel: 'info',
      kafka: { brokers: ['127.0.0.1:19092', '127.0.0.1:19093'], partitions: 12, topicPrefix: '', tls: false },
      mongo: { uri: validEnv.MONGO_URI, databasePrefix: 'converge' },
      redis: { url: validEnv.REDIS_URL },
      oidc: {
        issuer: validEnv.OIDC_ISSUER,
        audience: 'converge-api',
        tokenTypes: ['at+jwt'],
        scope: 'access_as_user',
        clockToleranceMs: 60_000,
        maxTokenLifetimeMs: 24 * 60 * 60_000,
      },
      access: { keyPrefix: 'converge:access:' },
      otel: { tracesEndpoint: undefined },
      shutdownTimeoutMs: 20_000,
    });
  });

  it('reads Kafka TLS and SASL credentials, and refuses a SASL mechanism without a user and password', () => {
    const managed = loadConfig(serviceEnv.transform(serviceConfig), {
      ...validEnv,
      KAFKA_TLS: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'converge',
      KAFKA_SASL_PASSWORD: 'kafka-s3cret',
    });
    expect(managed.kafka).toMatchObject({
      tls: true,
      sasl: { mechanism: 'scram-sha-512', username: 'converge', password: 'kafka-s3cret' },
    });

    const error = configError(() =>
      loadConfig(serviceEnv.transform(serviceConfig), { ...validEnv, KAFKA_SASL_MECHANISM: 'plain' }),
    );
    expect(error.issues).toEqual([
      { variable: 'KAFKA_SASL_USERNAME', reason: 'is required with KAFKA_SASL_MECHANISM' },
      { variable: 'KAFKA_SASL_PASSWORD', reason: 'is required with KAFKA_SASL_MECHANISM' },
    ]);
    expect(
      configError(() =>
        loadConfig(serviceEnv.transform(serviceConfig), { ...validEnv, KAFKA_SASL_MECHANISM: 'gssapi' }),
      ).issues,
    ).toEqual([
      { variable: 'KAFKA_SASL_MECHANISM', reason: 'must be one of plain, scram-sha-256, scram-sha-512' },
    ]);
  });

  it("reads the issuer's access token rules, refusing a clock tolerance over 5 minutes", () => {
    const entra = loadConfig(serviceEnv.transform(serviceConfig), {
      ...validEnv,
      OIDC_TOKEN_TYPES: 'JWT',
      OIDC_SCOPE: 'Converge.Use',
      OIDC_CLOCK_TOLERANCE: '5m',
      OIDC_MAX_TOKEN_LIFETIME: '2h',
    });
    expect(entra.oidc).toMatchObject({
      tokenTypes: ['JWT'],
      scope: 'Converge.Use',
      clockToleranceMs: 300_000,
      maxTokenLifetimeMs: 7_200_000,
    });
    const error = configError(() =>
      loadConfig(serviceEnv, { ...validEnv, OIDC_CLOCK_TOLERANCE: '10m', OIDC_TOKEN_TYPES: ' , ' }),
    );
    expect(error.issues).toEqual([
      { variable: 'OIDC_TOKEN_TYPES', reason: 'must list at least one token type' },
      { variable: 'OIDC_CLOCK_TOLERANCE', reason: 'must be at most 5m' },
    ]);
  });

  it('lists every bad or missing variable in one error', () => {
    const error = configError(() =>
      loadConfig(serviceEnv, { PORT: '99999', LOG_LEVEL: 'loud', REDIS_URL: 'http://127.0.0.1:16379' }),
    );
    expect(error.issues.map((issue) => issue.variable).sort()).toEqual([
      'KAFKA_BROKERS',
      'LOG_LEVEL',
      'MONGO_URI',
      'OIDC_AUDIENCE',
      'OIDC_ISSUER',
      'PORT',
      'REDIS_URL',
    ]);
    expect(error.issues).toContainEqual({ variable: 'KAFKA_BROKERS', reason: 'is required' });
    expect(error.issues).toContainEqual({ variable: 'PORT', reason: 'must be an integer from 0 to 65535' });
    expect(error.message).toContain('REDIS_URL: must be a URL (redis://, rediss://)');
  });

  it('never echoes the value of a bad variable', () => {
    const error = configError(() =>
      loadConfig(serviceEnv, {
        ...validEnv,
        MONGO_URI: 'postgres://admin:hunter2@db',
        OIDC_ISSUER: 'hunter3',
      }),
    );
    expect(error.message).toContain('MONGO_URI');
    expect(error.message).toContain('OIDC_ISSUER');
    expect(error.message).not.toContain('hunter');
  });

  it('treats an empty variable as unset, so the default applies', () => {
    const config = loadConfig(serviceEnv, { ...validEnv, PORT: '', LOG_LEVEL: '' });
    expect(config.PORT).toBe(8080);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('reports a rule across variables as (config)', () => {
    const schema = z
      .object({ MIN: port(), MAX: port() })
      .refine((env) => env.MIN <= env.MAX, { error: 'MIN must not exceed MAX' });
    const error = configError(() => loadConfig(schema, { MIN: '9', MAX: '1' }));
    expect(error.issues).toEqual([{ variable: '(config)', reason: 'MIN must not exceed MAX' }]);
  });
});

describe('env field helpers', () => {
  it('reads ports, including 0 for an OS-assigned port', () => {
    expect(port().parse('0')).toBe(0);
    expect(port().parse('65535')).toBe(65535);
    expect(port().safeParse('65536').success).toBe(false);
    expect(port().safeParse('80a').success).toBe(false);
    expect(port().safeParse('-1').success).toBe(false);
  });

  it('reads URLs, optionally limited to some schemes', () => {
    expect(url().parse('https://example.com/x')).toBe('https://example.com/x');
    expect(url().safeParse('example.com').success).toBe(false);
    expect(url(['http', 'https']).safeParse('ftp://example.com').success).toBe(false);
  });

  it('reads comma lists, trimming items and dropping empty ones', () => {
    expect(csv().parse(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(csv().parse(',')).toEqual([]);
  });

  it('reads booleans strictly', () => {
    expect(bool().parse('true')).toBe(true);
    expect(bool().parse('1')).toBe(true);
    expect(bool().parse('false')).toBe(false);
    expect(bool().parse('0')).toBe(false);
    expect(bool().safeParse('yes').success).toBe(false);
    expect(bool().safeParse('ture').success).toBe(false);
    expect(bool().safeParse('constructor').success).toBe(false);
  });

  it('reads durations in milliseconds', () => {
    expect(duration().parse('250ms')).toBe(250);
    expect(duration().parse('30s')).toBe(30_000);
    expect(duration().parse('5m')).toBe(300_000);
    expect(duration().parse('1h')).toBe(3_600_000);
    expect(duration().parse('1.5s')).toBe(1500);
    expect(duration().parse('1200')).toBe(1200);
    expect(duration().safeParse('5 minutes').success).toBe(false);
    expect(duration().safeParse('-5s').success).toBe(false);
  });

  it('reads 32-byte base64 encryption keys as bytes, and nothing shorter, longer or not base64', () => {
    const key = Buffer.alloc(32, 7);
    expect(secretKey().parse(key.toString('base64'))).toEqual(key);
    expect(secretKey().safeParse(Buffer.alloc(31).toString('base64')).success).toBe(false);
    expect(secretKey().safeParse(Buffer.alloc(33).toString('base64')).success).toBe(false);
    expect(secretKey().safeParse(`${key.toString('base64')}!`).success).toBe(false);
  });

  it('reads log levels', () => {
    expect(logLevel().parse('debug')).toBe('debug');
    expect(logLevel().safeParse('verbose').success).toBe(false);
  });
});
