import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import {
  AgentGatewayService,
  AgentMessageSchema,
  create,
  DeviceType,
  fromBinary,
  GatewayMessageSchema,
  makeGrpcClient,
  OsFamily,
  toBinary,
  type GatewayMessage,
  type MessageInitShape,
} from '@converge/proto';
import { waitFor } from '@converge/testing';

export interface Credential {
  agentId: string;
  credentialSecret: string;
}

export interface GatewayAddress {
  agentPort: number;
  agentGrpcPort: number;
}

/** How an agent connection ended: the WebSocket close code and reason, or the gRPC status. */
export interface Ended {
  code: number;
  reason: string;
}

type AgentMessageInit = MessageInitShape<typeof AgentMessageSchema>;

export const helloFacts = (hostname: string) => ({
  hardwareUuid: `uuid-${hostname}`,
  serialNumber: `serial-${hostname}`,
  manufacturer: 'Dell Inc.',
  model: 'OptiPlex 7010',
  osInstallId: `install-${hostname}`,
  hostname,
  osFamily: OsFamily.LINUX,
  osName: 'Ubuntu 24.04 LTS',
  osVersion: '24.04',
  deviceType: DeviceType.WORKSTATION,
  loggedOnUpns: ['ada@contoso.com'],
  agentVersion: '0.1.0-test',
});

/**
 * A small agent for tests: speaks the protocol over WebSocket or gRPC, records what the gateway sends and
 * how many times each command id arrived, and (like the real agent) reconnects after a Drain's delay.
 */
export class FakeAgent {
  readonly received: GatewayMessage[] = [];
  readonly deliveries = new Map<string, number>();
  readonly ended: Ended[] = [];
  connections = 0;
  private sendRaw: ((bytes: Uint8Array | string) => void) | undefined;
  private closeNow: (() => void) | undefined;
  private readonly credential: Credential;
  private address: GatewayAddress;
  private readonly transport: 'websocket' | 'grpc';
  /** Like the real agent, heartbeat at the interval the Welcome names; a test turns it off to go silent. */
  heartbeating = true;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Where to go after a Drain (the load balancer's choice, in a test). */
  reconnectTo: GatewayAddress | undefined;

  constructor(credential: Credential, address: GatewayAddress, transport: 'websocket' | 'grpc') {
    this.credential = credential;
    this.address = address;
    this.transport = transport;
  }

  get authorization(): string {
    return `Bearer ${this.credential.agentId}.${this.credential.credentialSecret}`;
  }

  /** Opens the channel and says Hello; resolves once the Welcome arrived. */
  async connect(): Promise<void> {
    const before = this.received.filter((message) => message.kind.case === 'welcome').length;
    await this.open();
    this.send({
      kind: { case: 'hello', value: { facts: helloFacts(`host-${this.credential.agentId.slice(0, 8)}`) } },
    });
    await waitFor(() => this.received.filter((message) => message.kind.case === 'welcome').length > before, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
  }

  /** Connects to another gateway replica from now on (as a load balancer might send it). */
  async connectTo(address: GatewayAddress): Promise<void> {
    this.address = address;
    await this.connect();
  }

  /** Opens the channel without a Hello; rejects when the gateway refuses it. */
  open(): Promise<void> {
    return this.transport === 'websocket' ? this.openWebSocket() : this.openGrpc();
  }

  send(message: AgentMessageInit): void {
    this.sendRaw?.(toBinary(AgentMessageSchema, create(AgentMessageSchema, message)));
  }

  sendBytes(bytes: Uint8Array | string): void {
    this.sendRaw?.(bytes);
  }

  close(): void {
    clearInterval(this.heartbeatTimer);
    this.closeNow?.();
  }

  commandsReceived(): string[] {
    return this.received.flatMap((message) =>
      message.kind.case === 'command' ? [message.kind.value.id] : [],
    );
  }

  private receive(message: GatewayMessage): void {
    this.received.push(message);
    if (message.kind.case === 'welcome') {
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = setInterval(() => {
        if (this.heartbeating) this.send({ kind: { case: 'heartbeat', value: {} } });
      }, message.kind.value.heartbeatIntervalMs / 2);
    }
    if (message.kind.case === 'command') {
      const { id } = message.kind.value;
      this.deliveries.set(id, (this.deliveries.get(id) ?? 0) + 1);
    }
    if (message.kind.case === 'drain' && this.reconnectTo !== undefined) {
      const target = this.reconnectTo;
      setTimeout(() => {
        this.close();
        this.address = target;
        this.connect().catch(() => undefined);
      }, message.kind.value.reconnectAfterMs);
    }
  }

  private openWebSocket(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${String(this.address.agentPort)}/agent/v1/connect`, {
        headers: { authorization: this.authorization },
        perMessageDeflate: false,
      });
      ws.binaryType = 'nodebuffer';
      ws.on('unexpected-response', (_req, res) => {
        reject(new Error(`upgrade refused: ${String(res.statusCode)}`));
        ws.terminate();
      });
      ws.on('error', reject);
      ws.on('open', () => {
        this.connections++;
        this.sendRaw = (bytes) => {
          ws.send(bytes, { binary: typeof bytes !== 'string' });
        };
        this.closeNow = () => {
          ws.close(1000);
        };
        resolve();
      });
      ws.on('message', (data: Buffer) => {
        this.receive(fromBinary(GatewayMessageSchema, data));
      });
      ws.on('close', (code, reason) => {
        this.ended.push({ code, reason: reason.toString() });
      });
    });
  }

  /** Resolves at once: a refusal shows up in `ended` (gRPC answers it as the stream's status). */
  private openGrpc(): Promise<void> {
    const client = makeGrpcClient(
      AgentGatewayService,
      `127.0.0.1:${String(this.address.agentGrpcPort)}`,
      grpc.credentials.createInsecure(),
    );
    const metadata = new grpc.Metadata();
    metadata.set('authorization', this.authorization);
    const call = client.connect(metadata);
    call.on('data', (message: GatewayMessage) => {
      this.receive(message);
    });
    call.on('error', (error: grpc.ServiceError) => {
      this.ended.push({ code: error.code, reason: error.details });
      client.close();
    });
    call.on('end', () => {
      client.close();
    });
    this.connections++;
    this.sendRaw = (bytes) => {
      if (typeof bytes === 'string') throw new Error('gRPC carries only messages');
      call.write(fromBinary(AgentMessageSchema, bytes));
    };
    this.closeNow = () => {
      call.end();
    };
    return Promise.resolve();
  }
}
