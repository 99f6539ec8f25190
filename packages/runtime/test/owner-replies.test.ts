import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stack, uniqueId } from '@converge/testing';
import { Redis } from 'ioredis';
import { startOwnerReplies, type OwnerReplies } from '../src/index.ts';

const connections: Redis[] = [];
const connect = () => {
  const redis = new Redis(stack.redisUrl);
  connections.push(redis);
  return redis;
};

let requester: OwnerReplies;
let owner: OwnerReplies;

beforeAll(async () => {
  const prefix = `${uniqueId('replies')}:`;
  requester = await startOwnerReplies(connect(), connect(), prefix);
  owner = await startOwnerReplies(connect(), connect(), prefix);
});

afterAll(async () => {
  await requester.stop();
  await owner.stop();
  for (const redis of connections) redis.disconnect();
});

describe('owner replies', () => {
  it('bring each request its own answer, published by the owner in one round trip', async () => {
    const first = requester.expect<{ status: string }>('request-1', 5_000);
    const second = requester.expect<{ status: string }>('request-2', 5_000);
    await owner.answer([
      { replyTo: requester.replyTo, requestId: 'request-2', result: { status: 'cancelled' } },
      { replyTo: requester.replyTo, requestId: 'request-1', result: { status: 'running' } },
    ]);
    await expect(first).resolves.toEqual({ status: 'running' });
    await expect(second).resolves.toEqual({ status: 'cancelled' });
  });

  it('give up after the deadline when no owner answers, and ignore a late answer', async () => {
    const started = Date.now();
    await expect(requester.expect('request-3', 200)).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await owner.answer([{ replyTo: requester.replyTo, requestId: 'request-3', result: 'late' }]);
  });
});
