import type { ErrorRequestHandler, RequestHandler } from 'express';
import { NotFoundError, problemContentType, toProblemDetails } from '@converge/errors';
import { currentTraceId, type Logger } from '@converge/telemetry';
import { fromHttpMachinery } from './openapi-validation.ts';
import { pathOf } from './request-tracing.ts';

export const unknownRoute: RequestHandler = () => {
  throw new NotFoundError('no such resource');
};

/** The one place errors become responses: RFC 9457 problem details, never a stack trace. */
export function problemResponses(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    // Too late for a problem body: express ends the connection so the client sees a broken response.
    if (res.headersSent) {
      next(err);
      return;
    }
    const { error, headers } = fromHttpMachinery(err);
    const problem = toProblemDetails(error, { instance: pathOf(req.originalUrl), traceId: currentTraceId() });
    if (problem.status >= 500) {
      logger.error({ err, requestId: res.locals.requestId as string }, 'request failed');
    }
    if (problem.status === 401 && !res.hasHeader('www-authenticate'))
      res.setHeader('www-authenticate', 'Bearer');
    res.set(headers).status(problem.status).type(problemContentType).json(problem);
  };
}
