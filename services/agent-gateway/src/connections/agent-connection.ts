import { status } from '@grpc/grpc-js';

export const transports = ['websocket', 'grpc'] as const;
export type Transport = (typeof transports)[number];

/** Why the gateway closes a connection; codes and texts are fixed by docs/agent-connection.md. */
export const closeReasons = {
  'frame-too-large': { websocket: 1009, text: 'frame too large', grpc: status.RESOURCE_EXHAUSTED },
  'malformed-frame': { websocket: 1007, text: 'malformed frame', grpc: status.INVALID_ARGUMENT },
  'idle-timeout': { websocket: 4408, text: 'idle timeout', grpc: status.DEADLINE_EXCEEDED },
  'credential-revoked': { websocket: 4401, text: 'credential revoked', grpc: status.UNAUTHENTICATED },
  superseded: { websocket: 4409, text: 'superseded', grpc: status.ABORTED },
  'going-away': { websocket: 1001, text: 'going away', grpc: status.UNAVAILABLE },
  // Not in the table of the contract: an agent that stops reading is dropped rather than buffered for.
  'slow-agent': { websocket: 1013, text: 'agent not reading', grpc: status.RESOURCE_EXHAUSTED },
} as const;
export type CloseReason = keyof typeof closeReasons;

/**
 * One agent's channel, whatever carries it. Frames are already-encoded protobuf (`GatewayMessage` out),
 * so a frame is encoded once whichever transport sends it.
 */
export interface AgentConnection {
  readonly transport: Transport;
  /** Queues one frame; never blocks. */
  send(frame: Uint8Array): void;
  /** Bytes queued for the agent and not yet handed to the kernel. */
  bufferedBytes(): number;
  /** Closes with the documented code; the transport reports `closed` to the session once it is gone. */
  close(reason: CloseReason): void;
}

/** What a transport tells the session about its connection. */
export interface SessionInput {
  /** One binary frame (one `AgentMessage`). */
  frame(bytes: Uint8Array): void;
  /** The transport refused what it received (a text frame, an oversized frame). */
  refused(reason: 'malformed-frame' | 'frame-too-large'): void;
  /** The connection is gone, whoever closed it. Safe to call more than once. */
  closed(): void;
}

/** The agent a connection authenticated as (its credential's tenant), with the epoch this connection took. */
export interface AuthenticatedAgent {
  agentId: string;
  tenantId: string;
  epoch: number;
}

/** What both transports need from the gateway to accept, authenticate and enroll agents. */
export interface AgentEntry {
  /** Waits for the connection's turn; false when it should come back later. */
  admit(): Promise<boolean>;
  /** Seconds an agent refused by admission is told to wait. */
  retryAfterSeconds: number;
  /** The agent behind an `authorization` value, with this connection's epoch; null when refused. */
  authenticate(authorization: string | undefined): Promise<AuthenticatedAgent | null>;
  open(connection: AgentConnection, agent: AuthenticatedAgent): SessionInput;
  enroll(installToken: string): Promise<{ agentId: string; credentialSecret: string }>;
  accepted(transport: Transport): void;
  authFailed(transport: Transport): void;
  /** True once the replica drains: new connections are refused. */
  draining(): boolean;
}
