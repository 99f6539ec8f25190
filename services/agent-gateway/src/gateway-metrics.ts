import { getMeter } from '@converge/telemetry';
import type { Transport } from './connections/agent-connection.ts';

export interface GatewayMetrics {
  accepted(transport: Transport): void;
  authFailed(transport: Transport): void;
  /** Consume to frame written, in milliseconds. */
  dispatched(ms: number, path: 'local' | 'forwarded'): void;
  forwarded(): void;
  undeliverable(): void;
  /** A result or output chunk of a command not issued to the agent that sent it. */
  foreignReport(): void;
}

/** The gateway's metrics, exported with every other OTel metric on `/metrics`. */
export function createGatewayMetrics(connectedAgents: () => number): GatewayMetrics {
  const meter = getMeter('agent-gateway');
  meter
    .createObservableGauge('gateway.agents.connected', { description: 'Agents connected to this replica' })
    .addCallback((result) => {
      result.observe(connectedAgents());
    });
  const accepts = meter.createCounter('gateway.connections.accepted', {
    description: 'Agent connections accepted (credential verified)',
  });
  const authFailures = meter.createCounter('gateway.connections.auth_failures', {
    description: 'Agent connections refused for a bad, unknown or revoked credential',
  });
  const dispatch = meter.createHistogram('gateway.commands.dispatch_duration', {
    description: 'From consuming a command to writing its frame',
    unit: 'ms',
    // Fine buckets: the target is a p99 of a few milliseconds.
    advice: { explicitBucketBoundaries: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 25, 50, 100] },
  });
  const forwarded = meter.createCounter('gateway.commands.forwarded', {
    description: 'Commands forwarded to the replica holding their agent',
  });
  const undeliverable = meter.createCounter('gateway.commands.undeliverable', {
    description: 'Commands answered undeliverable',
  });
  const foreignReports = meter.createCounter('gateway.reports.foreign', {
    description: 'Results and output chunks dropped: their command was not issued to the agent sending them',
  });
  return {
    accepted: (transport) => {
      accepts.add(1, { transport });
    },
    authFailed: (transport) => {
      authFailures.add(1, { transport });
    },
    dispatched: (ms, path) => {
      dispatch.record(ms, { path });
    },
    forwarded: () => {
      forwarded.add(1);
    },
    undeliverable: () => {
      undeliverable.add(1);
    },
    foreignReport: () => {
      foreignReports.add(1);
    },
  };
}
