import type { Redis } from 'ioredis';
import { agentDisconnected } from '@converge/contracts';
import type { Logger } from '@converge/telemetry';
import type { AgentRepository } from '../data-access/agent.repository.ts';
import { decodePresence, type Presence } from '../domain/presence.ts';
import type { EventQueue } from '../publishing/event-queue.ts';
import { removeIfUnchangedScript, type RedisKeys } from '../redis-keys.ts';

export interface PresenceJanitorOptions {
  redis: Redis;
  keys: RedisKeys;
  replicaId: string;
  intervalMs: number;
  agents: AgentRepository;
  events: EventQueue;
  logger: Logger;
}

const scanCount = 1000;

/**
 * Finds presence entries whose replica's lease has expired (the replica crashed), reports those agents
 * disconnected and removes the entries. One replica at a time does it, under a lock that expires with the
 * interval; the event is published before the entry is removed, so a crash in between repeats the event
 * (consumers tell it apart by epoch) rather than losing it.
 */
export function startPresenceJanitor(opts: PresenceJanitorOptions): { stop(): void } {
  const { redis, keys, logger } = opts;
  let running = false;

  async function sweep(): Promise<void> {
    const locked = await redis.set(keys.janitorLock, opts.replicaId, 'PX', opts.intervalMs, 'NX');
    if (locked !== 'OK') return;
    // The replica sweeping is alive whatever its lease says: a lease refresh delayed by a busy event loop
    // must not make a replica report its own agents disconnected.
    const liveness = new Map<string, boolean>([[opts.replicaId, true]]);
    let cursor = '0';
    do {
      const [next, flat] = await redis.hscan(keys.presence, cursor, 'COUNT', scanCount);
      cursor = next;
      const orphans: { agentId: string; value: string; replica: string; epoch: number }[] = [];
      const unknownReplicas = new Set<string>();
      // Each entry decoded once: a sweep reads every connected agent's entry.
      const entries: { agentId: string; value: string; presence: Presence | undefined }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const value = flat[i + 1] ?? '';
        const presence = decodePresence(value);
        entries.push({ agentId: flat[i] ?? '', value, presence });
        if (presence !== undefined && !liveness.has(presence.replica)) unknownReplicas.add(presence.replica);
      }
      if (unknownReplicas.size > 0) {
        const pipeline = redis.pipeline();
        for (const replica of unknownReplicas) pipeline.exists(keys.replica(replica));
        const results = (await pipeline.exec()) ?? [];
        [...unknownReplicas].forEach((replica, index) => {
          liveness.set(replica, results[index]?.[1] === 1);
        });
      }
      for (const { agentId, value, presence } of entries) {
        if (presence === undefined || liveness.get(presence.replica) !== true) {
          orphans.push({ agentId, value, replica: presence?.replica ?? '', epoch: presence?.epoch ?? 0 });
        }
      }
      if (orphans.length > 0) await reportGone(orphans);
    } while (cursor !== '0');
  }

  async function reportGone(
    orphans: { agentId: string; value: string; replica: string; epoch: number }[],
  ): Promise<void> {
    const tenants = await opts.agents.tenantsOf(orphans.map((orphan) => orphan.agentId));
    const now = new Date();
    for (const orphan of orphans) {
      const tenantId = tenants.get(orphan.agentId);
      if (tenantId === undefined || orphan.epoch < 1) continue;
      opts.events.enqueue(agentDisconnected, {
        subject: orphan.agentId,
        tenantId,
        data: {
          agentId: orphan.agentId,
          tenantId,
          epoch: orphan.epoch,
          replica: orphan.replica,
          reason: 'error',
          disconnectedAt: now.toISOString(),
        },
      });
    }
    await opts.events.flush();
    await redis.eval(
      removeIfUnchangedScript,
      1,
      keys.presence,
      ...orphans.flatMap((orphan) => [orphan.agentId, orphan.value]),
    );
    logger.info({ count: orphans.length }, 'agents of stopped replicas reported disconnected');
  }

  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep()
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'presence janitor sweep failed');
      })
      .finally(() => {
        running = false;
      });
  }, opts.intervalMs);

  return {
    stop: () => {
      clearInterval(timer);
    },
  };
}
