import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface SyncLock {
  /** Grows with every acquisition of this lock: writes carry it so a stale holder's writes are refused. */
  fencingToken: number;
  release(): Promise<void>;
}

// Deletes the lock only if this holder still owns it (its TTL may have lapsed and another run taken it).
const releaseScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/**
 * One sync run per integration across replicas: a Redis lock with a TTL (a crashed replica's lock lapses)
 * and a fencing token (a run that outlived its TTL cannot overwrite the newer run's results). Null when
 * another run holds it.
 */
export async function acquireSyncLock(redis: Redis, key: string, ttlMs: number): Promise<SyncLock | null> {
  const owner = randomUUID();
  const acquired = await redis.set(key, owner, 'PX', ttlMs, 'NX');
  if (acquired !== 'OK') return null;
  const fencingToken = await redis.incr(`${key}:fence`);
  return {
    fencingToken,
    release: async () => {
      await redis.eval(releaseScript, 1, key, owner);
    },
  };
}
