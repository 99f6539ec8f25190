/**
 * The commands this replica wrote to its agents' connections lately, by command id and connection (agent and
 * epoch). Command offsets are committed in the background, so a rebalance may hand a command that was already
 * written to the next consumer again; it is not written to the same connection twice. (An agent runs a command
 * id at most once anyway; a new connection of the agent, as after a drain, gets it again.)
 *
 * Two generations of `windowMs` each: an id is remembered for at least `windowMs`, and memory follows the
 * command rate, not the number of connections. A connection is whatever names it, compared by identity.
 */
export class RecentDeliveries<Connection> {
  private readonly windowMs: number;
  private current = new Map<string, Connection>();
  private previous = new Map<string, Connection>();
  private rotatedAtMs: number;

  constructor(windowMs: number, nowMs: number) {
    this.windowMs = windowMs;
    this.rotatedAtMs = nowMs;
  }

  /** Whether the command was written to this connection within the window. */
  has(commandId: string, connection: Connection, nowMs: number): boolean {
    this.rotate(nowMs);
    return (this.current.get(commandId) ?? this.previous.get(commandId)) === connection;
  }

  add(commandId: string, connection: Connection, nowMs: number): void {
    this.rotate(nowMs);
    this.current.set(commandId, connection);
  }

  private rotate(nowMs: number): void {
    if (nowMs - this.rotatedAtMs < this.windowMs) return;
    // Two windows passed without a command: both generations are stale.
    this.previous =
      nowMs - this.rotatedAtMs < 2 * this.windowMs ? this.current : new Map<string, Connection>();
    this.current = new Map();
    this.rotatedAtMs = nowMs;
  }
}
