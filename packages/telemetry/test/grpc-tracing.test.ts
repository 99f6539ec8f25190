import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import {
  currentTraceId,
  grpcClientTracing,
  GrpcStatusError,
  SpanKind,
  startTelemetry,
  traceGrpcHandler,
  withSpan,
  type Telemetry,
} from '@converge/telemetry';

interface EchoRequest {
  text: string;
}
interface EchoReply {
  text: string;
  traceId: string | undefined;
}

const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8')),
};

// A hand-written service definition with JSON messages: enough to exercise real HTTP/2 calls without a .proto.
const echoService = {
  echo: {
    path: '/converge.test.v1.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: (bytes: Buffer) => json.deserialize(bytes) as EchoRequest,
    responseSerialize: json.serialize,
    responseDeserialize: (bytes: Buffer) => json.deserialize(bytes) as EchoReply,
  },
} satisfies grpc.ServiceDefinition;

type EchoClient = grpc.Client & {
  echo(
    request: EchoRequest,
    callback: (error: grpc.ServiceError | null, reply?: EchoReply) => void,
  ): grpc.ClientUnaryCall;
};

function echo(client: EchoClient, request: EchoRequest): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    client.echo(request, (error, reply) => {
      if (error) reject(error);
      else resolve(reply!);
    });
  });
}

describe('gRPC tracing', () => {
  let telemetry: Telemetry;
  let server: grpc.Server;
  let client: EchoClient;

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'grpc-tracing-test' });
    server = new grpc.Server();
    server.addService(echoService, {
      echo: traceGrpcHandler<EchoRequest, EchoReply>(echoService.echo.path, (call) => {
        if (call.request.text === 'missing') throw new GrpcStatusError(grpc.status.NOT_FOUND, 'no such echo');
        if (call.request.text === 'crash') throw new Error('database password is hunter2');
        return Promise.resolve({ text: call.request.text, traceId: currentTraceId() });
      }),
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error) reject(error);
        else resolve(boundPort);
      });
    });
    const Client = grpc.makeGenericClientConstructor(echoService, 'Echo');
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      interceptors: [grpcClientTracing],
    }) as unknown as EchoClient;
  });

  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => {
      server.tryShutdown(() => {
        resolve();
      });
    });
    await telemetry.shutdown();
  });

  it('the server handler runs in the trace of the client that called it', async () => {
    const { clientTraceId, reply } = await withSpan('caller', { kind: SpanKind.INTERNAL }, async () => ({
      clientTraceId: currentTraceId(),
      reply: await echo(client, { text: 'hello' }),
    }));
    expect(reply.text).toBe('hello');
    expect(clientTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(reply.traceId).toBe(clientTraceId);
  });

  it('a call made outside any span still gets a trace the server continues', async () => {
    const reply = await echo(client, { text: 'no parent' });
    expect(reply.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a GrpcStatusError reaches the caller as its status; other errors become INTERNAL without details', async () => {
    await expect(echo(client, { text: 'missing' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: 'no such echo',
    });
    await expect(echo(client, { text: 'crash' })).rejects.toMatchObject({
      code: grpc.status.INTERNAL,
      details: 'internal error',
    });
  });
});
