import type { Redis } from 'ioredis';
import type { Logger } from '@converge/telemetry';
import type { AgentRepository, StoredCredential } from '../data-access/agent.repository.ts';
import {
  decodeCredentialRecord,
  encodeCredentialRecord,
  revokedCredential,
  type CredentialRecord,
} from '../domain/credential.ts';
import type { RedisKeys } from '../redis-keys.ts';
import { Batcher } from '../batcher.ts';

export interface CredentialCacheOptions {
  redis: Redis;
  keys: RedisKeys;
  agents: AgentRepository;
  /**
   * How long this replica trusts a credential it holds before reading it again. Revocations are pushed to
   * every replica at once; this bounds how long one this replica missed (its Redis subscription was down)
   * could go unnoticed.
   */
  ttlMs: number;
  /** Credentials held in process at most; the oldest go first. */
  maxEntries: number;
  logger: Logger;
}

interface Held {
  record: CredentialRecord;
  heldUntilMs: number;
}

// A few thousand fields per HMGET or ids per `$in` keep each round trip short while a storm is on.
const redisBatch = 2_000;
const storeBatch = 1_000;

function recordOf(stored: StoredCredential): CredentialRecord {
  if (stored.revokedAt !== null) return revokedCredential;
  return {
    revoked: false,
    tenantId: stored.tenantId,
    secretHash: stored.secretHash,
    epochFloor: stored.epoch,
  };
}

/**
 * The agents' credentials as replicas verify connections with them, so a connection costs no store round
 * trip: held in process, shared through a Redis hash, read from the store only when neither has it (then
 * many agents in one query). A revocation is written to Redis as a tombstone, which no later fill
 * overwrites, and pushed to every replica at once (`ReplicaChannel`).
 */
export class CredentialCache {
  private readonly opts: CredentialCacheOptions;
  private readonly held = new Map<string, Held>();
  private readonly fromRedis: Batcher<string, CredentialRecord | null>;
  private readonly fromStore: Batcher<string, CredentialRecord | null>;

  constructor(opts: CredentialCacheOptions) {
    this.opts = opts;
    this.fromRedis = new Batcher({
      maxBatch: redisBatch,
      maxInFlight: 1,
      run: async (agentIds) => {
        const texts = await opts.redis.hmget(opts.keys.credentials, ...agentIds);
        return texts.map((text) => decodeCredentialRecord(text) ?? null);
      },
    });
    this.fromStore = new Batcher({
      maxBatch: storeBatch,
      maxInFlight: 1,
      run: (agentIds) => this.readStore(agentIds),
    });
  }

  /** The agent's credential record; undefined for an agent nobody enrolled. */
  async get(agentId: string): Promise<CredentialRecord | undefined> {
    const nowMs = Date.now();
    const held = this.held.get(agentId);
    if (held !== undefined && (held.record.revoked || held.heldUntilMs > nowMs)) return held.record;
    const record = (await this.fromRedis.submit(agentId)) ?? (await this.fromStore.submit(agentId));
    // A revocation heard while reading wins over what was read.
    if (this.isRevoked(agentId)) return revokedCredential;
    if (record === null) return undefined;
    this.hold(agentId, record, nowMs);
    return record;
  }

  /** Whether this replica heard that the agent's credential is revoked (a synchronous, last check). */
  isRevoked(agentId: string): boolean {
    return this.held.get(agentId)?.record.revoked === true;
  }

  /** A new enrollment's credential, shared at once so its first connection needs no store read. */
  async enrolled(agentId: string, record: CredentialRecord): Promise<void> {
    try {
      await this.opts.redis.hsetnx(this.opts.keys.credentials, agentId, encodeCredentialRecord(record));
    } catch (error) {
      // The first connection then reads the store instead.
      this.opts.logger.warn({ err: error, agentId }, 'enrolled credential not cached');
    }
  }

  /** Writes the revocation to Redis, where no fill read before it can overwrite it. */
  async revoke(agentId: string): Promise<void> {
    await this.opts.redis.hset(
      this.opts.keys.credentials,
      agentId,
      encodeCredentialRecord(revokedCredential),
    );
    this.revoked(agentId);
  }

  /** This replica heard of a revocation: from now on the agent is refused here. */
  revoked(agentId: string): void {
    this.held.delete(agentId);
    this.held.set(agentId, { record: revokedCredential, heldUntilMs: Number.POSITIVE_INFINITY });
    this.evictOverflow();
  }

  /** Forgets everything held in process (revocations may have been missed); Redis still has it all. */
  clear(): void {
    this.held.clear();
  }

  private hold(agentId: string, record: CredentialRecord, nowMs: number): void {
    this.held.delete(agentId);
    this.held.set(agentId, { record, heldUntilMs: nowMs + this.opts.ttlMs });
    this.evictOverflow();
  }

  private evictOverflow(): void {
    while (this.held.size > this.opts.maxEntries) {
      const oldest = this.held.keys().next();
      if (oldest.done === true) return;
      this.held.delete(oldest.value);
    }
  }

  /** One query for many agents; what it finds is shared in Redis unless a revocation got there first. */
  private async readStore(agentIds: string[]): Promise<(CredentialRecord | null)[]> {
    const stored = await this.opts.agents.credentials(agentIds);
    const records = new Map(stored.map((credential) => [credential._id, recordOf(credential)]));
    if (records.size > 0) {
      const pipeline = this.opts.redis.pipeline();
      for (const [agentId, record] of records) {
        // HSETNX: a tombstone written by a revocation after this read began stays.
        pipeline.hsetnx(this.opts.keys.credentials, agentId, encodeCredentialRecord(record));
      }
      await pipeline.exec();
    }
    return agentIds.map((agentId) => records.get(agentId) ?? null);
  }
}
