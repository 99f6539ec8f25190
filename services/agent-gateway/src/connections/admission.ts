import { createTokenBucket, msUntilToken, tryTake, type TokenBucket } from '../domain/token-bucket.ts';

export interface AdmissionOptions {
  ratePerSecond: number;
  burst: number;
  /** How long a connection may wait for its turn before it is told to come back later. */
  maxWaitMs: number;
  maxQueue: number;
}

interface Waiter {
  enqueuedAtMs: number;
  admit: (admitted: boolean) => void;
}

/**
 * Admission control for new agent connections: a token bucket, and a bounded queue in front of it so
 * a reconnect storm waits its turn instead of failing. Refused (false) only when the queue is full or
 * a connection waited `maxWaitMs`.
 */
export class Admission {
  readonly retryAfterSeconds: number;
  private readonly bucket: TokenBucket;
  private readonly opts: AdmissionOptions;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(opts: AdmissionOptions) {
    this.opts = opts;
    this.bucket = createTokenBucket(opts.ratePerSecond, opts.burst, Date.now());
    this.retryAfterSeconds = Math.max(1, Math.ceil(opts.maxWaitMs / 1000));
  }

  admit(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.queue.length === 0 && tryTake(this.bucket, Date.now())) return Promise.resolve(true);
    if (this.queue.length >= this.opts.maxQueue) return Promise.resolve(false);
    return new Promise((admit) => {
      this.queue.push({ enqueuedAtMs: Date.now(), admit });
      this.schedule();
    });
  }

  /** Refuses everyone waiting and everyone after (the replica is draining). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const waiter of this.queue.splice(0)) waiter.admit(false);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const now = Date.now();
    const oldest = this.queue[0];
    const untilExpiry = oldest === undefined ? 0 : oldest.enqueuedAtMs + this.opts.maxWaitMs - now;
    const delayMs = Math.max(1, Math.min(msUntilToken(this.bucket, now), untilExpiry));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, delayMs);
  }

  private release(): void {
    const now = Date.now();
    while (this.queue.length > 0) {
      const waiter = this.queue[0];
      if (waiter === undefined) break;
      if (now - waiter.enqueuedAtMs >= this.opts.maxWaitMs) {
        this.queue.shift();
        waiter.admit(false);
      } else if (tryTake(this.bucket, now)) {
        this.queue.shift();
        waiter.admit(true);
      } else {
        break;
      }
    }
    this.schedule();
  }
}
