// Exponential backoff with full jitter (docs/agent-connection.md, "Reconnecting"): after a gateway restart,
// thousands of agents spread their reconnects over the whole window instead of arriving together.

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** A connection that lasted this long was healthy: the next failure starts again from the base. */
  resetAfterMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 1000, capMs: 60_000, resetAfterMs: 60_000 };

/** `random(0, min(cap, base × 2^attempt))`; `random` returns a number in [0, 1). */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: () => number): number {
  // 2^attempt overflows to Infinity long after it passed the cap, and Math.min handles Infinity.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** Counts consecutive failed connections; a long enough connection forgives the earlier failures. */
export class ReconnectBackoff {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  #attempt = 0;

  constructor(policy: BackoffPolicy = defaultBackoff, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  /** The delay before the next attempt, given how long the connection that just ended lasted (0 if none). */
  next(connectedForMs: number): number {
    if (connectedForMs >= this.#policy.resetAfterMs) this.#attempt = 0;
    const delay = backoffDelayMs(this.#policy, this.#attempt, this.#random);
    this.#attempt += 1;
    return delay;
  }

  /** A drain is not a failure: the gateway chose the delay, and the count starts over. */
  reset(): void {
    this.#attempt = 0;
  }
}
