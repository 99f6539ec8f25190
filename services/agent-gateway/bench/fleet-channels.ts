// The three ways a simulated agent opens its channel to a server: WebSocket (the gateway's default), gRPC
// `Connect` (spoken over node:http2 by hand, because @grpc/grpc-js cannot bind a client to a source address
// and a grpc-js client per agent would cost the fleet far more than the gateway) and the raw-TCP floor.
// Each binds to the source address it is given, so the fleet is not limited by one address's ephemeral ports.
import http2 from 'node:http2';
import net from 'node:net';
import WebSocket from 'ws';
import type { Transport } from './bench-messages.ts';
import { framed, frameReader } from './frames.ts';

export interface ChannelTarget {
  host: string;
  port: number;
}

export interface ChannelEvents {
  /** Messages may be sent from now on. */
  onOpen(): void;
  onMessage(message: Uint8Array): void;
  /**
   * Called once, whatever ended the channel (refused, closed by either side, failed), with the server's
   * `retry-after` when it refused for now (admission control), as a real agent honours it.
   */
  onClose(reason: string, retryAfterMs?: number): void;
}

export interface AgentChannel {
  send(message: Uint8Array): void;
  close(): void;
}

export interface OpenOptions {
  target: ChannelTarget;
  /** The bearer value, `<agent id>.<secret>`. */
  credential: string;
  localAddress: string;
  events: ChannelEvents;
}

const connectPath = '/converge.agent.v1.AgentGatewayService/Connect';

export function openChannel(transport: Transport, opts: OpenOptions): AgentChannel {
  switch (transport) {
    case 'websocket':
      return openWebSocket(opts);
    case 'grpc':
      return openGrpc(opts);
    case 'raw-tcp':
      return openRawTcp(opts);
  }
}

function once(events: ChannelEvents): (reason: string, retryAfterMs?: number) => void {
  let closed = false;
  return (reason, retryAfterMs) => {
    if (closed) return;
    closed = true;
    events.onClose(reason, retryAfterMs);
  };
}

function openWebSocket({ target, credential, localAddress, events }: OpenOptions): AgentChannel {
  const closed = once(events);
  const socket = new WebSocket(`ws://${target.host}:${target.port}/agent/v1/connect`, {
    headers: { authorization: `Bearer ${credential}` },
    localAddress,
    perMessageDeflate: false,
  });
  socket.binaryType = 'nodebuffer';
  socket.on('open', () => {
    events.onOpen();
  });
  socket.on('message', (data: Buffer, isBinary) => {
    if (isBinary) events.onMessage(data);
  });
  // A refused upgrade (401, 503): its status, and how long a 503 asks the agent to wait.
  socket.on('unexpected-response', (_request, response) => {
    const retryAfter = Number(response.headers['retry-after']);
    closed(
      `upgrade refused: ${String(response.statusCode)}`,
      Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
    );
    socket.terminate();
  });
  socket.on('error', (error) => {
    closed(error.message);
  });
  socket.on('close', (code, reason) => {
    closed(`${code} ${reason.toString()}`.trim());
  });
  return {
    send: (message) => {
      socket.send(message, { binary: true });
    },
    close: () => {
      socket.terminate();
    },
  };
}

function openGrpc({ target, credential, localAddress, events }: OpenOptions): AgentChannel {
  const closed = once(events);
  const session = http2.connect(`http://${target.host}:${target.port}`, {
    createConnection: () => net.connect({ host: target.host, port: target.port, localAddress }),
  });
  session.on('error', (error: Error) => {
    closed(error.message);
  });
  session.on('close', () => {
    closed('session closed');
  });
  const stream = session.request(
    {
      ':method': 'POST',
      ':path': connectPath,
      'content-type': 'application/grpc',
      te: 'trailers',
      authorization: `Bearer ${credential}`,
    },
    { endStream: false },
  );
  const read = frameReader('grpc', (message) => {
    events.onMessage(message);
  });
  stream.on('data', (chunk: Buffer) => {
    try {
      read(chunk);
    } catch (error) {
      closed(error instanceof Error ? error.message : 'bad frame');
      session.destroy();
    }
  });
  // A refusal arrives as a trailers-only response, an end of stream as trailers: either way grpc-status says why.
  const statusOf = (headers: http2.IncomingHttpHeaders) => {
    const status = headers['grpc-status'];
    if (status !== undefined && status !== '0') {
      closed(`grpc-status ${String(status)} ${String(headers['grpc-message'] ?? '')}`.trim());
      session.close();
    }
  };
  stream.on('response', statusOf);
  stream.on('trailers', statusOf);
  stream.on('error', (error: Error) => {
    closed(error.message);
  });
  stream.on('close', () => {
    closed('stream closed');
    session.close();
  });
  // gRPC lets a client stream messages before the response headers: the Hello goes out at once.
  queueMicrotask(() => {
    events.onOpen();
  });
  return {
    send: (message) => {
      if (stream.writable) stream.write(framed('grpc', message));
    },
    close: () => {
      session.destroy();
    },
  };
}

function openRawTcp({ target, credential, localAddress, events }: OpenOptions): AgentChannel {
  const closed = once(events);
  const socket = net.connect({ host: target.host, port: target.port, localAddress });
  socket.setNoDelay(true);
  socket.on('connect', () => {
    // The floor has no upgrade headers: the credential is the first frame, then the messages.
    socket.write(framed('length', Buffer.from(credential)));
    events.onOpen();
  });
  const read = frameReader('length', (message) => {
    events.onMessage(message);
  });
  socket.on('data', (chunk) => {
    try {
      read(chunk);
    } catch (error) {
      closed(error instanceof Error ? error.message : 'bad frame');
      socket.destroy();
    }
  });
  socket.on('error', (error) => {
    closed(error.message);
  });
  socket.on('close', () => {
    closed('socket closed');
  });
  return {
    send: (message) => {
      if (socket.writable) socket.write(framed('length', message));
    },
    close: () => {
      socket.destroy();
    },
  };
}
