import {
  context,
  defaultTextMapSetter,
  isSpanContextValid,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Meter,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const defaultScope = 'converge';

// Used directly rather than through the global propagator so that trace context passes through a
// process even when telemetry was not started (a library test, a CLI), and so no other format can sneak in.
const propagator = new W3CTraceContextPropagator();

/** A carrier as it arrives from Kafka (Buffer values), HTTP (string arrays) or a plain object. */
export type TraceCarrier = Record<string, string | string[] | Buffer | undefined>;

const carrierGetter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value === undefined) return undefined;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return value;
  },
};

/** Writes `traceparent` (and `tracestate` when there is one) of `ctx` into the carrier. */
export function injectTraceContext(carrier: Record<string, string>, ctx: Context = context.active()): void {
  propagator.inject(ctx, carrier, defaultTextMapSetter);
}

/** Returns the active context continued by the remote parent found in the carrier, if any. */
export function extractTraceContext(carrier: TraceCarrier): Context {
  return propagator.extract(context.active(), carrier, carrierGetter);
}

export function getTracer(name: string = defaultScope): Tracer {
  return trace.getTracer(name);
}

export function getMeter(name: string = defaultScope): Meter {
  return metrics.getMeter(name);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent context, e.g. from `extractTraceContext`; defaults to the active context. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new active span. A thrown error is recorded on the span, marks it as failed and
 * is rethrown; the span always ends.
 */
export function withSpan<T>(name: string, opts: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const spanOptions = {
    kind: opts.kind ?? SpanKind.INTERNAL,
    ...(opts.attributes ? { attributes: opts.attributes } : {}),
  };
  return getTracer().startActiveSpan(name, spanOptions, opts.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      markSpanFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

export function markSpanFailed(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}

/** The trace id of the active span, for correlation ids in error bodies and logs. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
