import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import {
  extractTraceContext,
  SpanKind,
  SpanStatusCode,
  withSpan,
  type Logger,
  type Span,
} from '@converge/telemetry';

const requestIdHeader = 'x-request-id';
// A caller-chosen id is echoed and logged, so only short, plain ones are taken over.
const acceptableRequestId = /^[\w.:-]{1,128}$/;

function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && acceptableRequestId.test(header) ? header : randomUUID();
}

// The query string may carry anything a caller put there (even a token), so it is never logged.
export function pathOf(originalUrl: string): string {
  return originalUrl.split('?', 1)[0] ?? originalUrl;
}

// Kubernetes probes and Prometheus scrapes arrive every few seconds; at info they would drown the real traffic.
const probePaths = new Set(['/healthz', '/readyz', '/metrics']);

function finished(span: Span, statusCode: number): void {
  span.setAttribute('http.response.status_code', statusCode);
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
}

/**
 * Gives each request an id, a server span continuing the caller's W3C trace, and one log line when
 * its response is done (or the client went away).
 */
export function requestTracing(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = requestIdOf(req.headers[requestIdHeader]);
    res.setHeader(requestIdHeader, requestId);
    res.locals.requestId = requestId;
    const path = pathOf(req.originalUrl);
    const attributes = { 'http.request.method': req.method, 'url.path': path, 'http.request.id': requestId };
    const startedAt = performance.now();

    void withSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes, parent: extractTraceContext(req.headers) },
      async (span) => {
        const closed = new Promise((resolve) => res.once('close', resolve));
        next();
        await closed;
        finished(span, res.statusCode);
        const level = probePaths.has(path) && res.statusCode < 400 ? 'debug' : 'info';
        logger[level](
          {
            requestId,
            method: req.method,
            path,
            status: res.statusCode,
            durationMs: Math.round(performance.now() - startedAt),
            ...(res.writableFinished ? {} : { aborted: true }),
            traceId: span.spanContext().traceId,
          },
          'request',
        );
      },
    );
  };
}
