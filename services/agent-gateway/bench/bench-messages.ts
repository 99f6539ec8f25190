// What the bench driver and its child processes (the fleet, the raw-TCP floor) tell each other over the
// Node IPC channel of `fork`. Children are started only by the driver, so both sides trust the shapes.

import type { Quantiles } from './latency.ts';

export const transports = ['websocket', 'grpc', 'raw-tcp'] as const;
export type Transport = (typeof transports)[number];

/** One enrolled bench agent, as the credentials file lists it (the k6 script reads the same file). */
export interface FleetAgent {
  agentId: string;
  tenantId: string;
  /** `<agent id>.<credential secret>`, the bearer value of every connection. */
  credential: string;
}

export interface CredentialsFile {
  agents: FleetAgent[];
}

/** One wave of connections: the agents a `connect` instruction added, from first attempt to last Welcome. */
export interface WaveReport {
  type: 'connected';
  /** Agents of this fleet welcomed now (all waves). */
  welcomed: number;
  /** Agents of this wave that gave up at the connect deadline. */
  failed: number;
  retries: number;
  /** Refusals for a bad credential (HTTP 401, gRPC UNAUTHENTICATED) during this wave. */
  authFailures: number;
  firstAttemptAt: number;
  lastWelcomedAt: number;
  /** Why attempts of this wave closed, with counts. */
  failures: Record<string, number>;
}

export type FleetReport =
  | WaveReport
  /** Commands received since the last report: `[command id, wallClockMs at receipt]`. */
  | { type: 'receipts'; items: [string, number][] }
  | { type: 'progress'; welcomed: number; open: number; retries: number; failures: Record<string, number> };

export type FleetInstruction =
  /** Connect this fleet's agents up to (not including) index `upTo` of its slice, then report the wave. */
  { type: 'connect'; upTo: number } | { type: 'flush' } | { type: 'stop' };

export type FloorReport =
  | { type: 'listening'; port: number }
  /** Dispatch time since the previous stats request, from exact samples. */
  | {
      type: 'stats';
      connections: number;
      welcomed: number;
      dispatched: number;
      dispatchMs: Quantiles | null;
    };

export type FloorInstruction = { type: 'stats' } | { type: 'stop' };

export type PublisherInstruction =
  /** Publish commands at the rate, for the seconds the publisher was started with; ids start with `prefix`. */
  { type: 'publish'; prefix: string } | { type: 'stop' };

export type PublisherReport =
  | { type: 'ready' }
  /** Commands published since the last report: `[command id, wallClockMs of its publish]`. */
  | { type: 'published'; items: [string, number][] }
  | { type: 'done'; seconds: number };
