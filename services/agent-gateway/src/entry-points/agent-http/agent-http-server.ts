import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  DomainError,
  problemContentType,
  toProblemDetails,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from '@converge/errors';
import { create, EnrollRequestSchema, EnrollResponseSchema, fromBinary, toBinary } from '@converge/proto';
import type { Logger } from '@converge/telemetry';
import { TooManyEnrollmentsError, type EnrollmentThrottle } from '../../agents/enrollment-throttle.ts';
import {
  closeReasons,
  type AgentConnection,
  type AgentEntry,
  type CloseReason,
  type SessionInput,
  type Transport,
} from '../../connections/agent-connection.ts';

export interface AgentHttpServerOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  entry: AgentEntry;
  enrollment: EnrollmentThrottle;
  logger: Logger;
}

export interface AgentHttpServer {
  port: number;
  /** Stops accepting new connections; established WebSockets stay. */
  stopAccepting(): void;
  /** Cuts whatever is still open. */
  close(): void;
}

const enrollPath = '/agent/v1/enroll';
const connectPath = '/agent/v1/connect';
const protobufType = 'application/x-protobuf';
// An agent that does not answer the close handshake is cut off after this.
const closeHandshakeMs = 2_000;

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '').split('?', 1)[0] ?? '';
}

function problemBody(error: unknown, instance: string): { status: number; body: string } {
  const problem = toProblemDetails(error, { instance });
  return { status: problem.status, body: JSON.stringify(problem) };
}

/** Answers an upgrade request that will not become a WebSocket, on the raw socket. */
function refuseUpgrade(socket: Socket, error: DomainError, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const { status, body } = problemBody(error, connectPath);
  const lines = [
    `HTTP/1.1 ${String(status)} ${error.title}`,
    'connection: close',
    `content-type: ${problemContentType}`,
    `content-length: ${String(Buffer.byteLength(body))}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

const binaryFrame = { binary: true } as const;

/**
 * An accepted WebSocket as the session sees it. A class rather than closures, and the socket listeners below are
 * shared functions: an idle connection should cost as little as the transport allows.
 */
class WebSocketConnection implements AgentConnection {
  private readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    this.ws = ws;
  }

  get transport(): Transport {
    return 'websocket';
  }

  send(frame: Uint8Array): void {
    this.ws.send(frame, binaryFrame);
  }

  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  close(reason: CloseReason): void {
    const { ws } = this;
    if (reason === 'slow-agent') {
      // Its buffer would never drain through a close handshake.
      ws.terminate();
      return;
    }
    const { websocket, text } = closeReasons[reason];
    ws.close(websocket, text);
    setTimeout(() => {
      ws.terminate();
    }, closeHandshakeMs).unref();
  }
}

/** The session of each accepted WebSocket, for the listeners every connection shares. */
const sessionOf = new WeakMap<WebSocket, SessionInput>();

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const session = sessionOf.get(this);
  if (session === undefined) return;
  if (!isBinary) {
    session.refused('malformed-frame');
    return;
  }
  // A Buffer is a Uint8Array: passed on as it is, not copied.
  session.frame(
    Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data,
  );
}

function onError(this: WebSocket, error: Error & { code?: string }): void {
  // ws has already closed with 1009 / 1007; the session records why.
  const session = sessionOf.get(this);
  if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') session?.refused('frame-too-large');
  else session?.refused('malformed-frame');
}

function onClose(this: WebSocket): void {
  sessionOf.get(this)?.closed();
}

function attach(ws: WebSocket, session: SessionInput): void {
  sessionOf.set(ws, session);
  ws.on('message', onMessage);
  ws.on('error', onError);
  ws.on('close', onClose);
}

/** Errors of a socket being upgraded end in its `close`; a listener only keeps them from crashing the process. */
function ignoreSocketError(): void {
  // Nothing to do: ws and the upgrade handler see the socket close.
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.byteLength;
    if (size > limit) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The agents' HTTP listener: `POST /agent/v1/enroll` (protobuf in and out) and the WebSocket upgrade
 * `GET /agent/v1/connect`, whose credential is checked before the upgrade is accepted.
 */
export async function startAgentHttpServer(opts: AgentHttpServerOptions): Promise<AgentHttpServer> {
  const { entry, logger } = opts;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  async function enroll(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim();
    if (contentType !== protobufType) throw new ValidationError(`the body must be ${protobufType}`);
    const body = await readBody(req, opts.maxFrameBytes);
    if (body === undefined) throw new ValidationError('the body is too large');
    let installToken: string;
    try {
      installToken = fromBinary(EnrollRequestSchema, body).installToken;
    } catch {
      throw new ValidationError('the body is not an EnrollRequest');
    }
    const address = opts.enrollment.clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']);
    const enrolled = await opts.enrollment.attempt(address, installToken, () => entry.enroll(installToken));
    const answer = toBinary(EnrollResponseSchema, create(EnrollResponseSchema, enrolled));
    res.writeHead(200, { 'content-type': protobufType, 'content-length': answer.byteLength });
    res.end(answer);
  }

  const server = createServer((req, res) => {
    const path = pathOf(req);
    const handled =
      req.method === 'POST' && path === enrollPath
        ? enroll(req, res)
        : Promise.reject(
            new DomainError({ status: 404, title: 'Not Found', type: 'about:blank' }, 'no such resource'),
          );
    handled.catch((error: unknown) => {
      if (!(error instanceof DomainError)) logger.error({ err: error }, 'agent request failed');
      const { status, body } = problemBody(error, path);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(status, {
        'content-type': problemContentType,
        'content-length': Buffer.byteLength(body),
        ...(error instanceof TooManyEnrollmentsError
          ? { 'retry-after': String(error.retryAfterSeconds) }
          : {}),
      });
      res.end(body);
    });
  });

  /** Admission, then the credential, then the upgrade; refusals are answered on the raw socket. */
  async function upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    if (entry.draining() || !(await entry.admit())) {
      refuseUpgrade(socket, new UnavailableError('too many agents are connecting, retry later'), {
        'retry-after': String(entry.retryAfterSeconds),
      });
      return;
    }
    const agent = await entry.authenticate(req.headers.authorization);
    if (agent === null) {
      entry.authFailed('websocket');
      refuseUpgrade(socket, new UnauthorizedError('a valid agent credential is required'));
      return;
    }
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      entry.accepted('websocket');
      attach(ws, entry.open(new WebSocketConnection(ws), agent));
    });
  }

  // Nothing created here outlives the upgrade, so the request (and its authorization header) can be freed.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', ignoreSocketError);
    if (pathOf(req) !== connectPath) {
      refuseUpgrade(
        socket,
        new DomainError({ status: 404, title: 'Not Found', type: 'about:blank' }, 'no such resource'),
      );
      return;
    }
    upgrade(req, socket, head).catch((error: unknown) => {
      logger.error({ err: error }, 'agent upgrade failed');
      refuseUpgrade(socket, new UnavailableError('the connection could not be accepted, retry later'));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    stopAccepting: () => {
      server.close();
    },
    close: () => {
      server.closeAllConnections();
      wss.close();
    },
  };
}
