import {
  GatewayMessageSchema,
  AgentMessageSchema,
  fromBinary,
  toBinary,
  type GatewayMessage,
} from '@converge/proto';
import { WebSocket } from 'ws';
import type { Credential } from '../credential-file.ts';
import { gatewayUrl } from '../enrollment.ts';
import {
  bearer,
  ChannelRefusedError,
  type AgentChannel,
  type ChannelHandlers,
  type ChannelTransport,
} from './agent-channel.ts';

export interface WebSocketTransportOptions {
  handshakeTimeoutMs: number;
  /**
   * The agent pings the gateway this often and drops the connection when the previous ping went unanswered,
   * so a connection silently cut by a NAT or proxy is noticed instead of waited on forever.
   */
  keepaliveMs: number;
}

const maxFrameBytes = 1024 * 1024;

/** `ws(s)://<server>/agent/v1/connect`, the bearer credential in the upgrade request's header. */
export function websocketTransport(
  credential: Credential,
  options: WebSocketTransportOptions,
): ChannelTransport {
  const url = gatewayUrl(credential.server, '/agent/v1/connect');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    name: 'websocket',
    open: (handlers) => openWebSocket(url, credential, options, handlers),
    dispose: () => undefined,
  };
}

function openWebSocket(
  url: URL,
  credential: Credential,
  options: WebSocketTransportOptions,
  handlers: ChannelHandlers,
): Promise<AgentChannel> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers: { authorization: bearer(credential) },
      handshakeTimeout: options.handshakeTimeoutMs,
      // Commands are small; the cap keeps a broken or hostile peer from making the agent buffer gigabytes.
      maxPayload: maxFrameBytes,
      perMessageDeflate: false,
    });
    socket.binaryType = 'nodebuffer';
    let opened = false;
    let refusal: ChannelRefusedError | undefined;
    let keepalive: NodeJS.Timeout | undefined;
    let awaitingPong = false;

    socket.on('unexpected-response', (_request, response) => {
      const retryAfter = Number(response.headers['retry-after']);
      refusal = new ChannelRefusedError(
        `the gateway answered the upgrade with HTTP ${response.statusCode ?? 'unknown'}`,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
      response.resume();
      socket.terminate();
    });
    socket.on('error', (error) => {
      refusal ??= new ChannelRefusedError(`could not connect to ${url.origin}: ${error.message}`);
    });
    socket.on('open', () => {
      opened = true;
      keepalive = setInterval(() => {
        if (awaitingPong) {
          socket.terminate();
          return;
        }
        awaitingPong = true;
        socket.ping();
      }, options.keepaliveMs);
      resolve(channel);
    });
    socket.on('pong', () => {
      awaitingPong = false;
    });
    socket.on('message', (data, isBinary) => {
      let message: GatewayMessage;
      try {
        if (!isBinary) throw new Error('text frame');
        message = fromBinary(GatewayMessageSchema, data as Buffer);
      } catch {
        socket.close(1007, 'malformed frame');
        return;
      }
      handlers.onMessage(message);
    });
    socket.on('close', (code, reason) => {
      clearInterval(keepalive);
      if (!opened) {
        reject(refusal ?? new ChannelRefusedError(`the connection closed before it opened (${code})`));
        return;
      }
      handlers.onClose({ reason: `${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}` });
    });

    const channel: AgentChannel = {
      send: (message) =>
        new Promise((sent, failed) => {
          if (socket.readyState !== WebSocket.OPEN) {
            failed(new Error('the channel is closed'));
            return;
          }
          socket.send(toBinary(AgentMessageSchema, message), { binary: true }, (error) => {
            if (error) failed(error);
            else sent();
          });
        }),
      close: (reason) => {
        if (socket.readyState === WebSocket.OPEN) socket.close(1000, reason);
        else socket.terminate();
      },
    };
  });
}
