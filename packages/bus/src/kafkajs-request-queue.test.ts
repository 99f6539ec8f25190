import { createRequire } from 'node:module';
import { describe, expect, it } from '@jest/globals';
import './kafkajs-request-queue.ts';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
}

const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
  prototype: Queue;
};

function queue(pending: unknown[], throttledUntil: number): Queue {
  return Object.assign(Object.create(RequestQueue.prototype) as Queue, {
    pending,
    throttledUntil,
    throttleCheckTimeoutId: null,
  });
}

describe("kafkajs' request queue", () => {
  it('arms no timer when nothing waits and nothing is throttled (kafkajs re-armed one every millisecond)', () => {
    const idle = queue([], Date.now() - 1_000);
    idle.scheduleCheckPendingRequests();
    expect(idle.throttleCheckTimeoutId).toBeNull();
  });

  it('still checks again for requests that wait, and when a throttle ends', () => {
    for (const busy of [queue([{}], 0), queue([], Date.now() + 500)]) {
      busy.scheduleCheckPendingRequests();
      expect(busy.throttleCheckTimeoutId).not.toBeNull();
      clearTimeout(busy.throttleCheckTimeoutId ?? undefined);
    }
  });
});
