import { Redis } from 'ioredis';

/**
 * Redis holds only rebuildable hot state (ARCHITECTURE.md §4), so a service should fail a
 * request fast rather than queue commands while Redis is away: no offline queue, one retry.
 */
export function connectRedis(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
}

export function redisReadiness(redis: Redis): () => Promise<boolean> {
  return async () => {
    try {
      await redis.ping();
      return true;
    } catch {
      return false;
    }
  };
}
