import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * Answers to requests that became commands on an owner's topic (docs/architecture.md §9): the replica serving the
 * HTTP request waits on its own Redis channel; the owner, once the batch that applied the command is persisted,
 * publishes the result there. Redis pub/sub loses an answer whose replica is gone, which is fine: that request
 * has no one waiting any more.
 */

export interface OwnerReplies {
  /** This replica's address for answers, carried by each command it sends. */
  readonly replyTo: string;
  /**
   * Starts waiting for request `requestId` (call it before sending the command, so no answer is missed): the
   * owner's result, or `undefined` when none came within `timeoutMs`.
   */
  expect<T>(requestId: string, timeoutMs: number): Promise<T | undefined>;
  /** An owner answers requests it applied, in one round trip. */
  answer(answers: readonly { replyTo: string; requestId: string; result: unknown }[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `redis` publishes; `subscriber` is a connection of its own (a subscribed connection cannot run commands).
 * `channelPrefix` names the service, e.g. `converge:sessions:replies:`.
 */
export async function startOwnerReplies(
  redis: Redis,
  subscriber: Redis,
  channelPrefix: string,
): Promise<OwnerReplies> {
  const replyTo = `${channelPrefix}${randomUUID()}`;
  const waiting = new Map<string, (result: unknown) => void>();
  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== replyTo) return;
    const { requestId, result } = JSON.parse(text) as { requestId: string; result: unknown };
    waiting.get(requestId)?.(result);
  });
  await subscriber.subscribe(replyTo);

  return {
    replyTo,
    expect: <T>(requestId: string, timeoutMs: number) =>
      new Promise<T | undefined>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(requestId);
          resolve(undefined);
        }, timeoutMs);
        waiting.set(requestId, (result) => {
          clearTimeout(timer);
          waiting.delete(requestId);
          resolve(result as T);
        });
      }),
    answer: async (answers) => {
      if (answers.length === 0) return;
      const pipeline = redis.pipeline();
      for (const { replyTo: channel, requestId, result } of answers) {
        pipeline.publish(channel, JSON.stringify({ requestId, result }));
      }
      await pipeline.exec();
    },
    stop: async () => {
      for (const settle of waiting.values()) settle(undefined);
      await subscriber.unsubscribe(replyTo);
    },
  };
}
