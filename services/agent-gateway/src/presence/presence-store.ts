import type { Redis } from 'ioredis';
import type { Logger } from '@converge/telemetry';
import { Batcher } from '../batcher.ts';
import { decodePresence, encodePresence, type Presence } from '../domain/presence.ts';
import { removeIfUnchangedScript, type RedisKeys } from '../redis-keys.ts';

export interface PresenceStoreOptions {
  redis: Redis;
  keys: RedisKeys;
  replicaId: string;
  flushIntervalMs: number;
  leaseTtlMs: number;
  logger: Logger;
}

const leaseRefreshMs = 1_000;

/**
 * This replica's view into Redis presence. Connects and disconnects are collected and written every
 * flush interval in one pipeline (never one write per agent event); the replica's lease is refreshed
 * every second, so that when it stops, the janitor of another replica finds its agents within seconds.
 */
export class PresenceStore {
  private readonly opts: PresenceStoreOptions;
  private sets = new Map<string, string>();
  private removals = new Map<string, string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> | undefined;
  // Every greeted connection looks up where its agent was: during a storm, hundreds share one HMGET.
  private readonly lookups: Batcher<string, Presence | null>;

  constructor(opts: PresenceStoreOptions) {
    this.opts = opts;
    this.lookups = new Batcher({
      maxBatch: 1_000,
      maxInFlight: 1,
      run: async (agentIds) =>
        (await opts.redis.hmget(opts.keys.presence, ...agentIds)).map(
          (value) => decodePresence(value) ?? null,
        ),
    });
  }

  async start(): Promise<void> {
    await this.refreshLease();
    this.timers.push(
      setInterval(() => void this.flush(), this.opts.flushIntervalMs),
      setInterval(() => void this.refreshLease(), leaseRefreshMs),
    );
  }

  connected(agentId: string, presence: Presence): void {
    this.sets.set(agentId, encodePresence(presence));
  }

  disconnected(agentId: string, presence: Presence): void {
    const value = encodePresence(presence);
    if (this.sets.get(agentId) === value) this.sets.delete(agentId);
    this.removals.set(agentId, value);
  }

  async get(agentId: string): Promise<Presence | undefined> {
    return (await this.lookups.submit(agentId)) ?? undefined;
  }

  async getMany(agentIds: readonly string[]): Promise<(Presence | undefined)[]> {
    if (agentIds.length === 0) return [];
    const values = await this.opts.redis.hmget(this.opts.keys.presence, ...agentIds);
    return values.map((value) => decodePresence(value));
  }

  async isLive(replicaId: string): Promise<boolean> {
    if (replicaId === this.opts.replicaId) return true;
    return (await this.opts.redis.exists(this.opts.keys.replica(replicaId))) === 1;
  }

  /** Writes what is pending now; concurrent callers share one write. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Writes what is pending and gives up the lease (the replica is stopping). */
  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.flush();
    await this.flush();
    await this.opts.redis.del(this.opts.keys.replica(this.opts.replicaId)).catch(() => undefined);
  }

  private async write(): Promise<void> {
    if (this.sets.size === 0 && this.removals.size === 0) return;
    const sets = this.sets;
    const removals = this.removals;
    this.sets = new Map();
    this.removals = new Map();
    const pipeline = this.opts.redis.pipeline();
    // Removals first: a removal only ever matches an older value, never one set in the same flush.
    if (removals.size > 0) {
      pipeline.eval(removeIfUnchangedScript, 1, this.opts.keys.presence, ...[...removals].flat());
    }
    if (sets.size > 0) pipeline.hset(this.opts.keys.presence, sets);
    try {
      const results = (await pipeline.exec()) ?? [];
      const failure = results.find(([error]) => error !== null)?.[0];
      if (failure) throw failure;
    } catch (error) {
      // Presence is rebuildable: keep what failed for the next flush, unless something newer replaced it.
      for (const [agentId, value] of sets) {
        if (!this.sets.has(agentId) && this.removals.get(agentId) !== value) this.sets.set(agentId, value);
      }
      for (const [agentId, value] of removals) {
        if (!this.removals.has(agentId)) this.removals.set(agentId, value);
      }
      this.opts.logger.warn({ err: error }, 'presence flush failed, retrying');
    }
  }

  private async refreshLease(): Promise<void> {
    try {
      await this.opts.redis.set(
        this.opts.keys.replica(this.opts.replicaId),
        String(Date.now()),
        'PX',
        this.opts.leaseTtlMs,
      );
    } catch (error) {
      this.opts.logger.warn({ err: error }, 'replica lease refresh failed');
    }
  }
}
