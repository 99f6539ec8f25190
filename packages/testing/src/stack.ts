import { apiAudience } from '@converge/dev-oidc';

function redisEndpoint(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: port === '' ? 6379 : Number(port) };
}

const env = process.env;
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:16379';

/** The local stack started by `scripts/stack.sh` (jest's global setup); env vars point elsewhere. */
export const stack = {
  kafkaBrokers: (env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((broker) => broker.trim()),
  mongoUri: env.MONGO_URI ?? 'mongodb://127.0.0.1:27117/',
  redisUrl,
  redis: redisEndpoint(redisUrl),
  oidcIssuer: env.OIDC_ISSUER ?? 'http://127.0.0.1:18080',
  apiAudience,
} as const;
