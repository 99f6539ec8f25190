import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Full OTLP/HTTP traces URL (e.g. `http://collector:4318/v1/traces`); without it spans are not exported. */
  otlpTracesEndpoint?: string;
  /** Extra span processors, e.g. an in-memory exporter in tests. */
  spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  // Function-typed properties rather than methods: callers pass them around unbound (`server.on('request', t.metricsHandler)`).
  /** Serves the current metrics in the Prometheus text format; mount it on the service's own HTTP server. */
  readonly metricsHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Flushes pending spans and unregisters the global providers. */
  readonly shutdown: () => Promise<void>;
}

let running: Telemetry | undefined;

/**
 * Registers the process-wide tracer provider, meter provider, context manager and the W3C trace-context
 * propagator. The OpenTelemetry globals can be set only once per process, so a second call returns the
 * telemetry that is already running (its options are ignored) until that one is shut down.
 */
export function startTelemetry(opts: TelemetryOptions): Telemetry {
  if (running) return running;

  const resource = defaultResource().merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: opts.serviceName,
      ...(opts.serviceVersion ? { [ATTR_SERVICE_VERSION]: opts.serviceVersion } : {}),
    }),
  );

  const spanProcessors = [...(opts.spanProcessors ?? [])];
  if (opts.otlpTracesEndpoint) {
    spanProcessors.push(
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: opts.otlpTracesEndpoint }) }),
    );
  }
  const tracerProvider = new TracerProvider({ resource, spanProcessors });

  // The service's HTTP server exposes /metrics next to /healthz, so the exporter must not open a port.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [prometheus] });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);

  let stopping: Promise<void> | undefined;
  const telemetry: Telemetry = {
    metricsHandler: (req, res) => {
      prometheus.getMetricsRequestHandler(req, res);
    },
    shutdown: () => {
      stopping ??= (async () => {
        if (running === telemetry) running = undefined;
        await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
        trace.disable();
        metrics.disable();
        propagation.disable();
        context.disable();
      })();
      return stopping;
    },
  };
  running = telemetry;
  return telemetry;
}
