export { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry-sdk.ts';
export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export {
  currentTraceId,
  extractTraceContext,
  getMeter,
  getTracer,
  injectTraceContext,
  markSpanFailed,
  withSpan,
  type SpanOptions,
  type TraceCarrier,
} from './trace-context.ts';
export { grpcClientTracing, GrpcStatusError, traceGrpcHandler } from './grpc-tracing.ts';
export {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type Meter,
  type Span,
  type Tracer,
  type UpDownCounter,
} from '@opentelemetry/api';
