/**
 * When a draining replica sends each agent its `Drain`, and how long that agent waits before reconnecting.
 * Both are spread so that the other replicas see a steady trickle of reconnects instead of a storm.
 */
export interface DrainPlan {
  /** Offset from the start of the drain at which each agent (by index) gets its Drain frame. */
  sendAtMs: number[];
  /** The `reconnect_after_ms` each agent is told, already jittered. */
  reconnectAfterMs: number[];
}

/**
 * Spreads `count` Drain frames evenly over `spreadMs`, and gives each agent a reconnect delay drawn
 * uniformly from [0, maxReconnectDelayMs] (full jitter). `random` returns values in [0, 1).
 */
export function planDrain(
  count: number,
  spreadMs: number,
  maxReconnectDelayMs: number,
  random: () => number,
): DrainPlan {
  const sendAtMs: number[] = [];
  const reconnectAfterMs: number[] = [];
  for (let index = 0; index < count; index++) {
    sendAtMs.push(count <= 1 ? 0 : Math.floor((index * spreadMs) / count));
    reconnectAfterMs.push(Math.floor(random() * (maxReconnectDelayMs + 1)));
  }
  return { sendAtMs, reconnectAfterMs };
}

/** The drain window that leaves `marginMs` of the shutdown deadline for closing what remains. */
export function drainWindowMs(shutdownTimeoutMs: number, marginMs: number): number {
  return Math.max(0, shutdownTimeoutMs - marginMs);
}
