/**
 * A token bucket for admitting new agent connections: `burst` tokens at most, refilled at `ratePerSecond`.
 * Pure state plus the caller's clock, so a reconnect storm can be replayed in a test without waiting.
 */
export interface TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  tokens: number;
  refilledAtMs: number;
}

export function createTokenBucket(ratePerSecond: number, burst: number, nowMs: number): TokenBucket {
  return { ratePerSecond, burst, tokens: burst, refilledAtMs: nowMs };
}

function refill(bucket: TokenBucket, nowMs: number): void {
  const elapsedMs = Math.max(0, nowMs - bucket.refilledAtMs);
  bucket.tokens = Math.min(bucket.burst, bucket.tokens + (elapsedMs * bucket.ratePerSecond) / 1000);
  bucket.refilledAtMs = nowMs;
}

/** Takes one token if there is one. */
export function tryTake(bucket: TokenBucket, nowMs: number): boolean {
  refill(bucket, nowMs);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

/** How long until the next whole token is available (0 when one is available now). */
export function msUntilToken(bucket: TokenBucket, nowMs: number): number {
  refill(bucket, nowMs);
  if (bucket.tokens >= 1) return 0;
  return Math.ceil(((1 - bucket.tokens) * 1000) / bucket.ratePerSecond);
}
