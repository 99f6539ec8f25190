// protobuf-es v2 generates no @grpc/grpc-js stubs; this adapter builds grpc-js service
// definitions and clients from the generated service descriptors instead.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, Message, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import * as grpc from '@grpc/grpc-js';

type MethodShape = GenServiceMethods[string];
type Input<M extends MethodShape> = MessageShape<M['input']>;
type Output<M extends MethodShape> = MessageShape<M['output']>;

/** The grpc-js server handlers for a generated service, keyed by the methods' local names. */
export type GrpcServiceImplementation<Methods extends GenServiceMethods> = {
  [K in keyof Methods]: Methods[K]['methodKind'] extends 'unary'
    ? grpc.handleUnaryCall<Input<Methods[K]>, Output<Methods[K]>>
    : Methods[K]['methodKind'] extends 'server_streaming'
      ? grpc.handleServerStreamingCall<Input<Methods[K]>, Output<Methods[K]>>
      : Methods[K]['methodKind'] extends 'client_streaming'
        ? grpc.handleClientStreamingCall<Input<Methods[K]>, Output<Methods[K]>>
        : grpc.handleBidiStreamingCall<Input<Methods[K]>, Output<Methods[K]>>;
};

interface UnaryClientMethod<I, O> {
  (
    request: I,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<O>,
  ): grpc.ClientUnaryCall;
  (
    request: I,
    metadataOrOptions: grpc.Metadata | grpc.CallOptions,
    callback: grpc.requestCallback<O>,
  ): grpc.ClientUnaryCall;
  (request: I, callback: grpc.requestCallback<O>): grpc.ClientUnaryCall;
}

type ServerStreamingClientMethod<I, O> = (
  request: I,
  metadataOrOptions?: grpc.Metadata | grpc.CallOptions,
  options?: grpc.CallOptions,
) => grpc.ClientReadableStream<O>;

interface ClientStreamingClientMethod<I, O> {
  (
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<O>,
  ): grpc.ClientWritableStream<I>;
  (
    metadataOrOptions: grpc.Metadata | grpc.CallOptions,
    callback: grpc.requestCallback<O>,
  ): grpc.ClientWritableStream<I>;
  (callback: grpc.requestCallback<O>): grpc.ClientWritableStream<I>;
}

type BidiStreamingClientMethod<I, O> = (
  metadataOrOptions?: grpc.Metadata | grpc.CallOptions,
  options?: grpc.CallOptions,
) => grpc.ClientDuplexStream<I, O>;

/** A grpc-js client for a generated service: one method per RPC, by its local name. */
export type GrpcClient<Methods extends GenServiceMethods> = grpc.Client & {
  [K in keyof Methods]: Methods[K]['methodKind'] extends 'unary'
    ? UnaryClientMethod<Input<Methods[K]>, Output<Methods[K]>>
    : Methods[K]['methodKind'] extends 'server_streaming'
      ? ServerStreamingClientMethod<Input<Methods[K]>, Output<Methods[K]>>
      : Methods[K]['methodKind'] extends 'client_streaming'
        ? ClientStreamingClientMethod<Input<Methods[K]>, Output<Methods[K]>>
        : BidiStreamingClientMethod<Input<Methods[K]>, Output<Methods[K]>>;
};

function serializer(schema: DescMessage): (message: Message) => Buffer {
  return (message) => Buffer.from(toBinary(schema, message));
}

function deserializer(schema: DescMessage): (bytes: Buffer) => Message {
  return (bytes) => fromBinary(schema, bytes);
}

function methodDefinition(method: DescMethod): grpc.MethodDefinition<Message, Message> {
  const { methodKind } = method;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: methodKind === 'client_streaming' || methodKind === 'bidi_streaming',
    responseStream: methodKind === 'server_streaming' || methodKind === 'bidi_streaming',
    requestSerialize: serializer(method.input),
    requestDeserialize: deserializer(method.input),
    responseSerialize: serializer(method.output),
    responseDeserialize: deserializer(method.output),
  };
}

/** The grpc-js definition of a generated service, for `server.addService` and client constructors. */
export function grpcServiceDefinition<Methods extends GenServiceMethods>(
  service: GenService<Methods>,
): grpc.ServiceDefinition<GrpcServiceImplementation<Methods>> {
  const definition = Object.fromEntries(
    service.methods.map((method) => [method.localName, methodDefinition(method)]),
  );
  // The entries are exactly the service's methods by local name, which is what the mapped type says.
  return definition as grpc.ServiceDefinition<GrpcServiceImplementation<Methods>>;
}

/** A client for a generated service at `address` ("host:port"). */
export function makeGrpcClient<Methods extends GenServiceMethods>(
  service: GenService<Methods>,
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
): GrpcClient<Methods> {
  const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.typeName);
  // The generic constructor adds one method per definition entry; GrpcClient types them.
  return new Client(address, credentials, options) as unknown as GrpcClient<Methods>;
}

/** Serves a generated service on `server`, its handlers typed by the service's messages. */
export function addGrpcService<Methods extends GenServiceMethods>(
  server: grpc.Server,
  service: GenService<Methods>,
  implementation: GrpcServiceImplementation<Methods>,
): void {
  server.addService(grpcServiceDefinition(service), implementation);
}
