import express from 'express';
import type { Request, Response } from 'express';
import type { TokenVerifier } from '@converge/auth';
import type { Logger } from '@converge/telemetry';
import { authenticate } from './authentication.ts';
import { openApiValidation } from './openapi-validation.ts';
import { problemResponses, unknownRoute } from './problem-responses.ts';
import { readinessHandler, type ReadinessCheck } from './readiness.ts';
import { requestTracing } from './request-tracing.ts';

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  readiness: ReadinessCheck[];
  verifyToken: TokenVerifier;
  /** Path to the service's OpenAPI document; requests under `/api` are validated against it. */
  openApiDocument?: string;
  metricsHandler?: (req: Request, res: Response) => void;
  /** Mounted under `/api/v1`, behind authentication. */
  routes: (router: express.Router) => void;
  /** Largest accepted JSON body (bytes or a size like `'1mb'`); default 1 MB. */
  jsonBodyLimit?: string | number;
  /** How long one readiness check may take before it counts as down; default 2 s. */
  readinessTimeoutMs?: number;
}

/** The express app of a service: health, metrics, and an authenticated, validated `/api/v1`. */
export function createHttpApp(opts: HttpAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestTracing(opts.logger));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'alive', service: opts.service });
  });
  app.get('/readyz', readinessHandler(opts.readiness, opts.readinessTimeoutMs ?? 2000, opts.logger));
  if (opts.metricsHandler) app.get('/metrics', opts.metricsHandler);

  // Authentication comes before body parsing, so an anonymous caller cannot make us read a body.
  app.use('/api', authenticate(opts.verifyToken));
  app.use(
    '/api',
    express.json({ limit: opts.jsonBodyLimit ?? '1mb', type: ['application/json', 'application/*+json'] }),
  );
  // Mounted on the app, not on '/api': the validator matches the full URL against the document's servers.
  if (opts.openApiDocument !== undefined) app.use(openApiValidation(opts.openApiDocument));

  const router = express.Router();
  opts.routes(router);
  app.use('/api/v1', router);

  app.use(unknownRoute);
  app.use(problemResponses(opts.logger));
  return app;
}
