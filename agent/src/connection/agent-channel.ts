import type { AgentMessage, GatewayMessage } from '@converge/proto';

/** Why a channel ended, for the log and the reconnect delay. */
export interface ChannelClosed {
  reason: string;
}

export interface ChannelHandlers {
  onMessage(message: GatewayMessage): void;
  /** Called once, whichever side closed the channel. */
  onClose(closed: ChannelClosed): void;
}

/** One live connection to a gateway replica, whatever carries it (WebSocket or a gRPC stream). */
export interface AgentChannel {
  /** Resolves once the frame is handed to the socket; rejects when the channel is closed. */
  send(message: AgentMessage): Promise<void>;
  /** Closes the channel; `onClose` still follows. */
  close(reason: string): void;
}

/** A way to reach the gateway: opens channels, one at a time, with the agent's credential. */
export interface ChannelTransport {
  readonly name: 'websocket' | 'grpc';
  /** Rejects with ChannelRefusedError when the gateway could not be reached or turned the agent away. */
  open(handlers: ChannelHandlers): Promise<AgentChannel>;
  /** Releases what the transport keeps between channels. */
  dispose(): void;
}

export class ChannelRefusedError extends Error {
  /** The gateway's `retry-after` (admission control), the least the agent waits before trying again. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'ChannelRefusedError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** The bearer credential both transports present: `<agent id>.<credential secret>`. */
export function bearer(credential: { agentId: string; credentialSecret: string }): string {
  return `Bearer ${credential.agentId}.${credential.credentialSecret}`;
}
