export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First back-off for a 5xx or a network error; doubles per attempt. */
  baseDelayMs: number;
  /** A `Retry-After` longer than this ends the run instead of holding its lock for that long. */
  maxRetryAfterMs: number;
}

/**
 * How long to wait before retrying a failed call, or null to give up. Throttling (429, and 503 with
 * `Retry-After`) waits what the server asked; other 5xx and network failures back off exponentially; any
 * other status is the caller's mistake and is not retried.
 */
export function retryDelayMs(
  status: number | 'network-error',
  retryAfter: string | null,
  attempt: number,
  policy: RetryPolicy,
  now: Date,
): number | null {
  if (attempt >= policy.maxAttempts) return null;
  const backoff = policy.baseDelayMs * 2 ** (attempt - 1);
  if (status === 'network-error') return backoff;
  if (status !== 429 && status < 500) return null;
  if (retryAfter === null) return backoff;
  const seconds = Number(retryAfter);
  // Retry-After is either seconds or an HTTP date; an unreadable value gets the ordinary back-off.
  const requested = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now.getTime();
  if (Number.isNaN(requested)) return backoff;
  return requested > policy.maxRetryAfterMs ? null : Math.max(0, requested);
}
