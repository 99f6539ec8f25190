import {
  InterceptingCall,
  ListenerBuilder,
  RequesterBuilder,
  status,
  type handleUnaryCall,
  type Interceptor,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { extractTraceContext, getTracer, injectTraceContext, withSpan } from './trace-context.ts';

/** An error a gRPC handler throws on purpose: its code and message reach the caller as the call's status. */
export class GrpcStatusError extends Error {
  readonly code: status;

  constructor(code: status, message: string) {
    super(message);
    this.name = 'GrpcStatusError';
    this.code = code;
  }
}

// `/converge.deployments.v1.Deployments/Resolve` -> service and method attributes (OpenTelemetry RPC conventions).
function rpcAttributes(path: string): Attributes {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  return { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method };
}

/**
 * Client interceptor: each call runs in a client span, child of the caller's active context, and
 * carries `traceparent` in its metadata so the server continues the trace.
 */
export const grpcClientTracing: Interceptor = (options, nextCall) => {
  // Interceptors run synchronously inside the client method call, so this is the caller's context.
  const parent = context.active();
  const path = options.method_definition.path;
  const span = getTracer().startSpan(
    path.replace(/^\//, ''),
    { kind: SpanKind.CLIENT, attributes: rpcAttributes(path) },
    parent,
  );
  const requester = new RequesterBuilder()
    .withStart((metadata, _listener, next) => {
      const carrier: Record<string, string> = {};
      injectTraceContext(carrier, trace.setSpan(parent, span));
      for (const [key, value] of Object.entries(carrier)) metadata.set(key, value);
      const listener = new ListenerBuilder()
        .withOnReceiveStatus((callStatus, nextStatus) => {
          span.setAttribute('rpc.grpc.status_code', callStatus.code);
          if (callStatus.code !== status.OK)
            span.setStatus({ code: SpanStatusCode.ERROR, message: callStatus.details });
          span.end();
          nextStatus(callStatus);
        })
        .build();
      next(metadata, listener);
    })
    .build();
  return new InterceptingCall(nextCall(options), requester);
};

/**
 * Wraps an async unary handler so it runs in a server span continuing the caller's trace (from the
 * call's `traceparent` metadata). A thrown `GrpcStatusError` becomes the call's status; anything else
 * becomes INTERNAL without its message, so internals never leave the process.
 */
export function traceGrpcHandler<Req, Res>(
  methodName: string,
  handler: (call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const parent = extractTraceContext(call.metadata.getMap());
    const attributes = rpcAttributes(methodName);
    withSpan(methodName.replace(/^\//, ''), { kind: SpanKind.SERVER, attributes, parent }, async (span) => {
      try {
        const response = await handler(call);
        span.setAttribute('rpc.grpc.status_code', status.OK);
        return response;
      } catch (error) {
        span.setAttribute(
          'rpc.grpc.status_code',
          error instanceof GrpcStatusError ? error.code : status.INTERNAL,
        );
        throw error;
      }
    }).then(
      (response) => {
        callback(null, response);
      },
      (error: unknown) => {
        callback(
          error instanceof GrpcStatusError
            ? { code: error.code, details: error.message }
            : { code: status.INTERNAL, details: 'internal error' },
        );
      },
    );
  };
}
