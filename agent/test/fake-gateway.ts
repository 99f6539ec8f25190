// A stand-in for services/agent-gateway that speaks docs/agent-connection.md over real sockets, so the agent
// process is tested end to end (the real gateway's own tests cover the other side).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import {
  AgentGatewayService,
  AgentMessageSchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  GatewayMessageSchema,
  addGrpcService,
  create,
  fromBinary,
  toBinary,
  type AgentMessage,
  type EnrollRequest,
  type GatewayMessage,
  type MessageInitShape,
} from '@converge/proto';
import { waitFor } from '@converge/testing';
import { WebSocketServer, type WebSocket } from 'ws';

export const installToken = 'tok1.install-secret';
export const agentId = '0b7f6a0e-1d2c-4e0e-9a57-5b1f0c2d3e4f';
export const credentialSecret = 'Zm9vYmFyYmF6cXV4LWNyZWRlbnRpYWwtc2VjcmV0';

export interface AgentSession {
  headers: IncomingHttpHeaders | Record<string, string>;
  messages: AgentMessage[];
  closed: string | undefined;
  send(message: MessageInitShape<typeof GatewayMessageSchema>): void;
  /** Drops the connection without a close handshake, like a crashed replica. */
  kill(): void;
  next(kind: NonNullable<AgentMessage['kind']['case']>, after?: number): Promise<AgentMessage>;
}

function session(
  headers: AgentSession['headers'],
  send: (message: GatewayMessage) => void,
  kill: () => void,
): AgentSession {
  const messages: AgentMessage[] = [];
  return {
    headers,
    messages,
    closed: undefined,
    send: (message) => {
      send(create(GatewayMessageSchema, message));
    },
    kill,
    next: async (kind, after = 0) =>
      (await waitFor(() => messages.slice(after).find((m) => m.kind.case === kind), {
        timeoutMs: 10_000,
        intervalMs: 20,
      }))!,
  };
}

export class FakeGateway {
  readonly enrollments: EnrollRequest[] = [];
  readonly sessions: AgentSession[] = [];
  /** The next upgrades are answered with this HTTP status (and retry-after: 1) instead of accepted. */
  refuseUpgrades: { status: number; count: number } | undefined;
  readonly refusedAt: number[] = [];
  #http: Server | undefined;
  #grpc: grpc.Server | undefined;
  readonly #wss = new WebSocketServer({ noServer: true });

  get url(): string {
    return `http://127.0.0.1:${(this.#http?.address() as AddressInfo).port}`;
  }

  grpcPort = 0;

  async start(): Promise<void> {
    this.#http = createServer((request, response) => {
      const parts: Buffer[] = [];
      request.on('data', (part: Buffer) => parts.push(part));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/agent/v1/enroll') {
          response.writeHead(404).end();
          return;
        }
        const enrollment = fromBinary(EnrollRequestSchema, Buffer.concat(parts));
        this.enrollments.push(enrollment);
        if (
          request.headers['content-type'] !== 'application/x-protobuf' ||
          enrollment.installToken !== installToken
        ) {
          response.writeHead(401, { 'content-type': 'application/problem+json' });
          response.end(
            JSON.stringify({ title: 'Unauthorized', status: 401, detail: 'install token not valid' }),
          );
          return;
        }
        response.writeHead(200, { 'content-type': 'application/x-protobuf' });
        response.end(
          toBinary(EnrollResponseSchema, create(EnrollResponseSchema, { agentId, credentialSecret })),
        );
      });
    });
    this.#http.on('upgrade', (request, socket, head) => {
      if (this.refuseUpgrades && this.refuseUpgrades.count > 0) {
        this.refuseUpgrades.count -= 1;
        this.refusedAt.push(Date.now());
        socket.end(
          `HTTP/1.1 ${this.refuseUpgrades.status} Refused\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n`,
        );
        return;
      }
      if (
        request.url !== '/agent/v1/connect' ||
        request.headers.authorization !== `Bearer ${agentId}.${credentialSecret}`
      ) {
        socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
        const agent = session(
          request.headers,
          (message) => {
            ws.send(toBinary(GatewayMessageSchema, message));
          },
          () => {
            ws.terminate();
          },
        );
        ws.on('message', (data: Buffer) => agent.messages.push(fromBinary(AgentMessageSchema, data)));
        ws.on('close', (code, reason) => (agent.closed = `${code} ${reason.toString()}`));
        this.sessions.push(agent);
      });
    });
    await new Promise<void>((resolve) => this.#http?.listen(0, '127.0.0.1', resolve));

    this.#grpc = new grpc.Server();
    addGrpcService(this.#grpc, AgentGatewayService, {
      enroll: (_call, callback) => {
        callback({ code: grpc.status.UNIMPLEMENTED });
      },
      connect: (call) => {
        const authorization = call.metadata.get('authorization')[0];
        if (authorization !== `Bearer ${agentId}.${credentialSecret}`) {
          call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'bad credential' });
          return;
        }
        const agent = session(
          { authorization },
          (message) => call.write(message),
          () => {
            call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'killed' });
          },
        );
        call.on('data', (message: AgentMessage) => agent.messages.push(message));
        call.on('cancelled', () => (agent.closed = 'cancelled'));
        call.on('end', () => {
          agent.closed = 'end';
          call.end();
        });
        this.sessions.push(agent);
      },
    });
    this.grpcPort = await new Promise<number>((resolve, reject) => {
      this.#grpc?.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
        if (error) reject(error);
        else resolve(port);
      });
    });
  }

  async nextSession(count: number): Promise<AgentSession> {
    return (await waitFor(() => this.sessions[count], { timeoutMs: 10_000, intervalMs: 20 }))!;
  }

  async stop(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#grpc?.forceShutdown();
    await new Promise((resolve) => this.#http?.close(resolve));
  }
}
