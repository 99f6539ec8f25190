import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTelemetry, type Telemetry } from './telemetry-sdk.ts';
import {
  currentTraceId,
  extractTraceContext,
  getTracer,
  injectTraceContext,
  withSpan,
} from './trace-context.ts';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;

beforeAll(() => {
  telemetry = startTelemetry({
    serviceName: 'trace-context-test',
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
});
afterAll(() => telemetry.shutdown());

describe('trace context propagation', () => {
  it('a second start returns the telemetry already running', () => {
    expect(startTelemetry({ serviceName: 'other' })).toBe(telemetry);
  });

  it('inject then extract keeps the trace id across a hop (Kafka headers arrive as Buffers)', async () => {
    const headers: Record<string, string> = {};
    const producerTraceId = await withSpan('produce', { kind: SpanKind.PRODUCER }, () => {
      injectTraceContext(headers);
      return Promise.resolve(currentTraceId());
    });
    expect(headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const kafkaHeaders = { traceparent: Buffer.from(headers['traceparent']!), other: undefined };
    const consumerTraceId = await withSpan(
      'consume',
      { kind: SpanKind.CONSUMER, parent: extractTraceContext(kafkaHeaders) },
      () => Promise.resolve(currentTraceId()),
    );
    expect(consumerTraceId).toBe(producerTraceId);
  });

  it('outside any span there is nothing to inject and no trace id', () => {
    const carrier: Record<string, string> = {};
    injectTraceContext(carrier);
    expect(carrier).toEqual({});
    expect(currentTraceId()).toBeUndefined();
  });

  it('a carrier without traceparent starts a new trace', async () => {
    const traceId = await withSpan('root', { parent: extractTraceContext({}) }, () =>
      Promise.resolve(currentTraceId()),
    );
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('withSpan records a failure, marks the span as an error, ends it and rethrows', async () => {
    exporter.reset();
    await expect(
      withSpan('failing', { attributes: { 'converge.agent_id': 'a-1' } }, () =>
        Promise.reject(new Error('boom')),
      ),
    ).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('failing');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(span?.attributes['converge.agent_id']).toBe('a-1');
    expect(span?.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('nests spans through awaits (AsyncLocalStorage context)', async () => {
    exporter.reset();
    await withSpan('outer', {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      getTracer().startSpan('inner').end();
    });
    const spans = exporter.getFinishedSpans();
    const outer = spans.find((span) => span.name === 'outer');
    const inner = spans.find((span) => span.name === 'inner');
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
  });
});
