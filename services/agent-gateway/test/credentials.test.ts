import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { asTenantId, connectMongo, storeOperations } from '@converge/store';
import { createLogger } from '@converge/telemetry';
import { stack, uniqueId } from '@converge/testing';
import { ConnectionEpochs } from '../src/credentials/connection-epochs.ts';
import { CredentialCache } from '../src/credentials/credential-cache.ts';
import { agentRepository, type AgentRepository } from '../src/data-access/agent.repository.ts';
import { connectionEpochRepository } from '../src/data-access/connection-epoch.repository.ts';
import { hashSecret } from '../src/domain/credential.ts';
import { redisKeys, type RedisKeys } from '../src/redis-keys.ts';

const logger = createLogger({ service: 'gateway-test', level: 'silent' });
let mongo: Connection;
let redis: Redis;
let agents: AgentRepository;

beforeAll(async () => {
  mongo = await connectMongo({
    uri: stack.mongoUri,
    dbName: uniqueId('gw_credentials').replace(/-/g, '_'),
    logger,
  });
  redis = new Redis(stack.redisUrl);
  agents = agentRepository(mongo);
});

afterAll(async () => {
  await mongo.dropDatabase();
  await mongo.close();
  redis.disconnect();
});

function cacheFor(keys: RedisKeys): CredentialCache {
  return new CredentialCache({ redis, keys, agents, ttlMs: 60_000, maxEntries: 10_000, logger });
}

/** The epochs of an installation of their own: its own Redis names and its own database. */
async function installation(): Promise<{
  keys: RedisKeys;
  epochs: () => ConnectionEpochs;
  close(): Promise<void>;
}> {
  const store = await connectMongo({
    uri: stack.mongoUri,
    dbName: uniqueId('gw_epochs').replace(/-/g, '_'),
    logger,
  });
  const keys = redisKeys(uniqueId('gw'));
  return {
    keys,
    epochs: () => new ConnectionEpochs({ redis, keys, issued: connectionEpochRepository(store), logger }),
    close: async () => {
      await store.dropDatabase();
      await store.close();
    },
  };
}

const finds = () => storeOperations(mongo).find ?? 0;

describe('the credential cache', () => {
  it("reads a restarted replica's misses for 500 agents from the store in one query, and then from Redis", async () => {
    const run = uniqueId('agent');
    const ids = Array.from({ length: 500 }, (_, index) => `${run}-${index}`);
    for (const id of ids) {
      await agents.insert(asTenantId('tenant-a'), {
        _id: id,
        secretHash: hashSecret(`secret-of-${id}`),
        epoch: 7,
        installTokenId: 'token',
        enrolledAt: new Date(),
        revokedAt: null,
      });
    }
    const keys = redisKeys(uniqueId('gw'));

    const before = finds();
    const restarted = cacheFor(keys);
    const records = await Promise.all(ids.map((id) => restarted.get(id)));
    expect(finds() - before).toBe(1);
    expect(records[0]).toEqual({
      revoked: false,
      tenantId: 'tenant-a',
      secretHash: hashSecret(`secret-of-${ids[0]}`),
      epochFloor: 7,
    });

    // Another replica, or this one restarted: everything comes from Redis now.
    const other = cacheFor(keys);
    const again = await Promise.all(ids.map((id) => other.get(id)));
    expect(finds() - before).toBe(1);
    expect(again).toEqual(records);
    expect(await cacheFor(keys).get(`${run}-never-enrolled`)).toBeUndefined();
  });

  it('lets a revocation written to Redis win over the store row another replica would read', async () => {
    const id = uniqueId('agent');
    await agents.insert(asTenantId('tenant-a'), {
      _id: id,
      secretHash: hashSecret('secret'),
      epoch: 0,
      installTokenId: 'token',
      enrolledAt: new Date(),
      revokedAt: null,
    });
    const keys = redisKeys(uniqueId('gw'));
    const revoking = cacheFor(keys);
    await revoking.revoke(id);
    // A replica that missed the announcement reads Redis, never the stale store row it might have read earlier.
    expect(await cacheFor(keys).get(id)).toEqual({ revoked: true });
    expect(revoking.isRevoked(id)).toBe(true);
  });
});

describe('connection epochs', () => {
  it("start at 1 in a new installation, continue above an agent's last stored epoch, and never repeat", async () => {
    const installed = await installation();
    const epochs = installed.epochs();
    await epochs.start();
    expect([await epochs.next('agent-a', 0), await epochs.next('agent-a', 0)]).toEqual([1, 2]);
    expect(await epochs.next('agent-b', 41)).toBe(42);
    const concurrent = await Promise.all(Array.from({ length: 100 }, () => epochs.next('agent-c', 0)));
    expect(new Set(concurrent).size).toBe(100);
    expect(Math.max(...concurrent)).toBe(100);
    // A second replica continues the same sequence.
    const other = installed.epochs();
    await other.start();
    expect(await other.next('agent-a', 0)).toBe(3);
    expect(await epochs.latest(['agent-a', 'agent-never'])).toEqual([3, undefined]);
    await installed.close();
  });

  it('continue above every epoch issued before when Redis lost them, on a running and a restarted replica', async () => {
    const installed = await installation();
    const epochs = installed.epochs();
    await epochs.start();
    expect(await epochs.next('agent-a', 0)).toBe(1);
    await redis.del(installed.keys.epochs);
    const afterLoss = await epochs.next('agent-a', 0);
    expect(afterLoss).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 60);
    expect(await epochs.next('agent-a', 0)).toBe(afterLoss + 1);

    await redis.del(installed.keys.epochs);
    const restarted = installed.epochs();
    await restarted.start();
    expect(await restarted.next('agent-b', 0)).toBeGreaterThan(1);
    await installed.close();
  });
});
