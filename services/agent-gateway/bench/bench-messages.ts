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

export type FleetReport =
  /** Every agent of this fleet got its Welcome (or the connect deadline passed). */
  | {
      type: 'connected';
      welcomed: number;
      failed: number;
      retries: number;
      firstAttemptAt: number;
      lastWelcomedAt: number;
      /** Why connections that gave up closed, with counts. */
      failures: Record<string, number>;
    }
  /** Commands received since the last report: `[command id, wallClockMs at receipt]`. */
  | { type: 'receipts'; items: [string, number][] }
  | { type: 'progress'; welcomed: number; open: number; retries: number; failures: Record<string, number> };

export type FleetInstruction = { type: 'flush' } | { type: 'stop' };

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
