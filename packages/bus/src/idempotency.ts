import type { Redis } from 'ioredis';
import type { ReceivedEvent } from './envelope.ts';

/**
 * Delivery is at-least-once: a crash before the commit, a rebalance or a re-published outbox entry can
 * hand a handler the same event again. These wrappers make a redelivery a no-op.
 */
export type EventHandler<T = unknown> = (event: ReceivedEvent<T>) => Promise<void>;

/** Remembers which event ids were handled, e.g. command ids an executor has run. */
export interface SeenEvents {
  /** Atomically records the id; true when it was not recorded yet. */
  markIfNew(id: string): Promise<boolean>;
  /** Drops the id again, so that an event whose handling failed is handled on redelivery. */
  forget(id: string): Promise<void>;
}

/** Runs `handle` once per event id; a failed handling is forgotten and the error rethrown (to be retried). */
export function skipSeenEvents<T>(handle: EventHandler<T>, seen: SeenEvents): EventHandler<T> {
  return async (event) => {
    if (!(await seen.markIfNew(event.id))) return;
    try {
      await handle(event);
    } catch (error) {
      await seen.forget(event.id);
      throw error;
    }
  };
}

export interface RedisSeenEventsOptions {
  /** Key prefix, one per consumer (group), e.g. `gateway:commands:seen`. */
  namespace: string;
  /** How long an id is remembered: longer than any redelivery can come late (hours, not minutes). */
  ttlSeconds: number;
}

/** Seen ids in Redis with `SET key 1 NX EX ttl`: atomic across replicas, expired by Redis itself. */
export function redisSeenEvents(redis: Redis, opts: RedisSeenEventsOptions): SeenEvents {
  const key = (id: string) => `${opts.namespace}:${id}`;
  return {
    markIfNew: async (id) => (await redis.set(key(id), '1', 'EX', opts.ttlSeconds, 'NX')) === 'OK',
    forget: async (id) => {
      await redis.del(key(id));
    },
  };
}

/**
 * For events that carry their aggregate's `version`: skips an event that is not newer than the version the
 * projection already holds (`undefined` when it holds nothing yet). The projection's own write should still
 * be conditional on the version (`findOneAndUpdate` with `version < n`) so two concurrent deliveries cannot
 * both pass this check and apply.
 */
export function applyIfNewer<T extends { version: number }>(
  handle: EventHandler<T>,
  currentVersion: (subject: string) => Promise<number | undefined>,
): EventHandler<T> {
  return async (event) => {
    const current = await currentVersion(event.subject);
    if (current !== undefined && event.data.version <= current) return;
    await handle(event);
  };
}
