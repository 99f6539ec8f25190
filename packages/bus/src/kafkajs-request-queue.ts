import { createRequire } from 'node:module';

/*
 * kafkajs 2.2.4 (its last release) re-arms a timer after every check of a connection's queue of pending
 * requests, even when nothing is pending and nothing is throttled: with the throttle time in the past the delay
 * is negative, Node runs it after 1 ms, and every connection of every client spins a 1 kHz timer for as long as
 * the process lives. Measured here: 45 ms of CPU per second in an idle sessions process, two thirds of it this
 * loop, and the same share of the work under load. The check is only needed while requests wait or the broker
 * throttles; this replaces the scheduling with one that arms the timer for those cases only, the fix kafkajs
 * carries unreleased on its main branch.
 */

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

// The queue's own interval for requests that wait without a throttle (kafkajs' CHECK_PENDING_REQUESTS_INTERVAL).
const checkPendingIntervalMs = 10;

const require = createRequire(import.meta.url);
const kafkajsVersion = (require('kafkajs/package.json') as { version: string }).version;
if (kafkajsVersion !== '2.2.4') {
  throw new Error(
    `the request queue fix is written for kafkajs 2.2.4, not ${kafkajsVersion}: check it still applies`,
  );
}
const RequestQueueClass = require('kafkajs/src/network/requestQueue/index.js') as {
  prototype: RequestQueue;
};

RequestQueueClass.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(
  this: RequestQueue,
): void {
  if (this.throttleCheckTimeoutId) return;
  const throttledFor = this.throttledUntil - Date.now();
  if (this.pending.length === 0 && throttledFor <= 0) return;
  const delay = throttledFor > 0 ? throttledFor : checkPendingIntervalMs;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
};
