import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { id, timestamp, upn } from './fields.ts';

/**
 * Agent events are keyed by agent id. `epoch` numbers an agent's connections (it grows with each one), so
 * a consumer can tell a late `disconnected` of an old connection from the end of the current one.
 */
const connection = {
  agentId: id,
  tenantId: id,
  epoch: z.number().int().min(1),
  /** The gateway replica holding the connection. */
  replica: z.string().min(1).max(253),
};

export const agentConnectedSchema = z.object({
  ...connection,
  transport: z.enum(['websocket', 'grpc']),
  agentVersion: z.string().min(1).max(64),
  connectedAt: timestamp,
});
export type AgentConnected = z.infer<typeof agentConnectedSchema>;
export const agentConnected = defineEvent(
  'converge.agent.connected.v1',
  topics.agentEvents,
  agentConnectedSchema,
);

export const agentDisconnectedSchema = z.object({
  ...connection,
  reason: z.enum(['agent-closed', 'heartbeat-timeout', 'replica-draining', 'superseded', 'error']),
  disconnectedAt: timestamp,
});
export type AgentDisconnected = z.infer<typeof agentDisconnectedSchema>;
export const agentDisconnected = defineEvent(
  'converge.agent.disconnected.v1',
  topics.agentEvents,
  agentDisconnectedSchema,
);

export const deviceTypes = ['workstation', 'portable', 'server', 'domain-controller'] as const;
export type DeviceType = (typeof deviceTypes)[number];

/** Identifiers a machine may lack (virtual machines, white-box hardware) are null rather than absent or empty. */
const hardwareIdentifier = z.string().trim().min(1).max(256).nullable();

export const agentFactsReportedSchema = z.object({
  ...connection,
  /** Who runs the agent: `converge` for ours; an RMM integration publishing facts names itself. */
  provider: z.string().min(1).max(64),
  /**
   * Grows with every report of one agent, across its connections (the gateway uses `epoch * 2^20 + report
   * number within the connection`), so identification applies a report only if it is newer than the last.
   */
  version: z.number().int().min(1),
  hardwareUuid: hardwareIdentifier,
  serialNumber: hardwareIdentifier,
  manufacturer: hardwareIdentifier,
  model: hardwareIdentifier,
  osInstallId: hardwareIdentifier,
  hostname: z.string().min(1).max(255),
  os: z.enum(['windows', 'macos', 'linux']),
  osVersion: z.string().min(1).max(128),
  deviceType: z.enum(deviceTypes),
  loggedOnUpns: z.array(upn).max(50),
  reportedAt: timestamp,
});
export type AgentFactsReported = z.infer<typeof agentFactsReportedSchema>;
export const agentFactsReported = defineEvent(
  'converge.agent.facts-reported.v1',
  topics.agentEvents,
  agentFactsReportedSchema,
);
