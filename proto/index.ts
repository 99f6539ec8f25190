export * from './gen/agent/v1/agent_pb.js';
export * from './gen/deployments/v1/resolution_pb.js';
export * from './grpc.ts';
// Services build, encode and decode these messages (WebSocket frames too) with the same runtime the
// generated code was made for, without depending on it themselves.
export { create, fromBinary, toBinary } from '@bufbuild/protobuf';
export type { MessageInitShape, MessageShape } from '@bufbuild/protobuf';
