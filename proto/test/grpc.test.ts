import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import {
  AgentGatewayService,
  AgentMessageSchema,
  CommandOutcome,
  DesiredState,
  DeviceType,
  ExecutionContext,
  GatewayMessageSchema,
  MaintenanceItemKind,
  OutputStream,
  PlannedItemSchema,
  ResolutionService,
  ResolveRequestSchema,
  ResolveResponseSchema,
  ScriptLanguage,
  SessionKind,
  addGrpcService,
  create,
  grpcServiceDefinition,
  makeGrpcClient,
  toBinary,
} from '../index.ts';
import type {
  AgentMessage,
  GatewayMessage,
  GrpcClient,
  MessageInitShape,
  ResolveResponse,
} from '../index.ts';

const credentialSecret = `secret-${Math.random().toString(36).slice(2)}`;
const text = new TextDecoder();

function deadline(): grpc.CallOptions {
  return { deadline: Date.now() + 5_000 };
}

describe('grpcServiceDefinition', () => {
  it('routes each RPC to /package.Service/Method with its streaming shape', () => {
    const gateway = grpcServiceDefinition(AgentGatewayService);
    const resolution = grpcServiceDefinition(ResolutionService);

    expect(gateway.enroll).toMatchObject({
      path: '/converge.agent.v1.AgentGatewayService/Enroll',
      requestStream: false,
      responseStream: false,
    });
    expect(gateway.connect).toMatchObject({
      path: '/converge.agent.v1.AgentGatewayService/Connect',
      requestStream: true,
      responseStream: true,
    });
    expect(resolution.resolve).toMatchObject({
      path: '/converge.deployments.v1.ResolutionService/Resolve',
      requestStream: false,
      responseStream: false,
    });
  });

  it('puts protobuf binary on the wire and reads it back into the same message', () => {
    const request = create(ResolveRequestSchema, {
      tenantId: 'tenant-1',
      computerId: 'computer-1',
      sessionKind: SessionKind.SINGLE_ITEM,
      maintenanceItemId: 'item-1',
    });
    const { resolve } = grpcServiceDefinition(ResolutionService);

    const bytes = resolve.requestSerialize(request);

    expect(bytes).toEqual(Buffer.from(toBinary(ResolveRequestSchema, request)));
    expect(resolve.requestDeserialize(bytes)).toEqual(request);
  });
});

describe('a grpc-js server and client built from the generated services', () => {
  const server = new grpc.Server();
  const serverReceived: AgentMessage[] = [];
  let resolutionClient: GrpcClient<(typeof ResolutionService)['method']>;
  let gatewayClient: GrpcClient<(typeof AgentGatewayService)['method']>;

  function gatewayMessage(kind: MessageInitShape<typeof GatewayMessageSchema>['kind']): GatewayMessage {
    return create(GatewayMessageSchema, { kind });
  }

  function agentMessage(kind: MessageInitShape<typeof AgentMessageSchema>['kind']): AgentMessage {
    return create(AgentMessageSchema, { kind });
  }

  beforeAll(async () => {
    addGrpcService(server, ResolutionService, {
      resolve: (call, callback) => {
        const { computerId, maintenanceItemId = '' } = call.request;
        callback(
          null,
          create(ResolveResponseSchema, {
            items: [
              {
                maintenanceItemId,
                kind: MaintenanceItemKind.SOFTWARE,
                deploymentId: `deployment-for-${computerId}`,
                desiredState: DesiredState.INSTALLED_VERSION,
                desiredVersion: '24.09',
                prerequisiteOf: ['item-2'],
              },
            ],
          }),
        );
      },
    });
    addGrpcService(server, AgentGatewayService, {
      enroll: (_call, callback) => {
        callback({ code: grpc.status.UNIMPLEMENTED });
      },
      // A miniature gateway: welcome the agent named by its credential, send one command, drain when it is done.
      connect: (call) => {
        const agentId =
          call.metadata.get('authorization')[0] === `Bearer ${credentialSecret}` ? 'agent-1' : 'unknown';
        call.on('data', (message: AgentMessage) => {
          serverReceived.push(message);
          switch (message.kind.case) {
            case 'hello':
              call.write(
                gatewayMessage({ case: 'welcome', value: { agentId, heartbeatIntervalMs: 30_000 } }),
              );
              call.write(
                gatewayMessage({
                  case: 'command',
                  value: {
                    id: 'command-1',
                    sessionId: 'session-1',
                    actionId: 'action-1',
                    language: ScriptLanguage.POWERSHELL,
                    executionContext: ExecutionContext.SYSTEM,
                    body: 'Write-Output $Version',
                    parameters: { Version: '24.09' },
                    timeoutSeconds: 600,
                  },
                }),
              );
              break;
            case 'commandResult':
              call.write(
                gatewayMessage({ case: 'drain', value: { reconnectAfterMs: 1_500, reason: 'shutdown' } }),
              );
              call.end();
              break;
            default:
              break;
          }
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error) reject(error);
        else resolve(boundPort);
      });
    });
    const address = `127.0.0.1:${port}`;
    resolutionClient = makeGrpcClient(ResolutionService, address, grpc.credentials.createInsecure());
    gatewayClient = makeGrpcClient(AgentGatewayService, address, grpc.credentials.createInsecure());
  });

  afterAll(() => {
    resolutionClient.close();
    gatewayClient.close();
    server.forceShutdown();
  });

  it('answers a unary Resolve with the planned items', async () => {
    const request = create(ResolveRequestSchema, {
      tenantId: 'tenant-1',
      computerId: 'computer-1',
      sessionKind: SessionKind.SINGLE_ITEM,
      maintenanceItemId: 'item-1',
    });

    const response = await new Promise<ResolveResponse>((resolve, reject) => {
      resolutionClient.resolve(request, deadline(), (error, value) => {
        if (error) reject(error);
        else if (value) resolve(value);
      });
    });

    expect(response.items).toEqual([
      create(PlannedItemSchema, {
        maintenanceItemId: 'item-1',
        kind: MaintenanceItemKind.SOFTWARE,
        deploymentId: 'deployment-for-computer-1',
        desiredState: DesiredState.INSTALLED_VERSION,
        desiredVersion: '24.09',
        order: 0,
        prerequisiteOf: ['item-2'],
      }),
    ]);
  });

  it('carries hello, welcome, command, output, result and drain over the bidi Connect stream', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${credentialSecret}`);
    const channel = gatewayClient.connect(metadata, deadline());
    const agentReceived: GatewayMessage[] = [];

    channel.on('data', (message: GatewayMessage) => {
      agentReceived.push(message);
      if (message.kind.case !== 'command') return;
      const commandId = message.kind.value.id;
      channel.write(
        agentMessage({
          case: 'outputChunk',
          value: {
            commandId,
            seq: 0,
            stream: OutputStream.STDOUT,
            data: new TextEncoder().encode('24.09\n'),
          },
        }),
      );
      channel.write(
        agentMessage({
          case: 'commandResult',
          value: {
            commandId,
            outcome: CommandOutcome.COMPLETED,
            exitCode: 0,
            finalOutputLine: '24.09',
            durationMs: 840,
          },
        }),
      );
    });
    const ended = new Promise<void>((resolve, reject) => {
      channel.on('end', resolve);
      channel.on('error', reject);
    });
    channel.write(
      agentMessage({
        case: 'hello',
        value: {
          facts: {
            hardwareUuid: '4c4c4544-0042-3510-8052-b7c04f4e3232',
            hostname: 'ws-042',
            deviceType: DeviceType.PORTABLE,
            loggedOnUpns: ['ada@contoso.example'],
          },
        },
      }),
    );
    await ended;
    channel.end();

    expect(agentReceived.map((message) => message.kind.case)).toEqual(['welcome', 'command', 'drain']);
    expect(agentReceived[0]!.kind.value).toMatchObject({ agentId: 'agent-1', heartbeatIntervalMs: 30_000 });
    expect(agentReceived[1]!.kind.value).toMatchObject({
      language: ScriptLanguage.POWERSHELL,
      executionContext: ExecutionContext.SYSTEM,
      parameters: { Version: '24.09' },
    });
    expect(agentReceived[2]!.kind.value).toMatchObject({ reconnectAfterMs: 1_500 });

    const [hello, chunk, result] = serverReceived;
    expect(hello?.kind.case === 'hello' && hello.kind.value.facts).toMatchObject({
      deviceType: DeviceType.PORTABLE,
      loggedOnUpns: ['ada@contoso.example'],
    });
    expect(chunk?.kind.case === 'outputChunk' && text.decode(chunk.kind.value.data)).toBe('24.09\n');
    expect(result?.kind.value).toMatchObject({ outcome: CommandOutcome.COMPLETED, finalOutputLine: '24.09' });
  });
});
