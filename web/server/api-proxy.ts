import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import {
  DomainError,
  ForbiddenError,
  NotFoundError,
  UnavailableError,
  problemContentType,
  toProblemDetails,
} from '@converge/errors';
import type { Logger } from '@converge/telemetry';
import type { ApiRoutes } from './api-routes.ts';
import type { ApiService } from './api-services.ts';
import { cookieValue, sessionCookieName, unsealSession, type CookieSealer } from './session-cookie.ts';

export const apiPrefix = '/api/v1';

export type NextHandler = () => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: NextHandler) => void;

export interface ApiProxyOptions {
  routes: ApiRoutes;
  upstreams: Record<ApiService, URL>;
  /** The public origin: a browser's cookie-authenticated change must come from it. */
  publicOrigin: string;
  /** Opens the dashboard's session cookie, so the dashboard's own pages can call the API from the browser. */
  sealer: CookieSealer;
  logger: Logger;
  /** Answers requests the edge serves itself under `/api/v1` (the merged OpenAPI document). */
  ownRoutes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

// RFC 9110 §7.6.1: meaningful for one connection only, never forwarded.
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set((headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()));
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!hopByHop.has(name) && !named.has(name)) kept[name] = value;
  }
  return kept;
}

/** Writes an RFC 9457 problem answer, the same shape the services answer with. */
export function sendProblem(res: ServerResponse, error: DomainError, instance: string): void {
  const body = JSON.stringify(toProblemDetails(error, { instance }));
  res.writeHead(error.status, {
    'content-type': problemContentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/**
 * The one public API origin: `/api/v1/*` goes to the service that owns the path (by the merged OpenAPI
 * document) and comes back as it is, streamed, so server-sent events pass through unbuffered. The caller's
 * bearer token passes through; a browser with only the dashboard's session cookie gets its access token put in
 * the Authorization header. Anything outside `/api/v1` goes to `next`.
 */
export function apiProxy(opts: ApiProxyOptions): Middleware {
  // Keep-alive connections to each service: a new TCP connection per request would cost more than the proxy.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 }),
  };

  return (req, res, next) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    if (path !== apiPrefix && !path.startsWith(`${apiPrefix}/`)) {
      next();
      return;
    }
    const own = opts.ownRoutes?.[path];
    if (own !== undefined) {
      own(req, res);
      return;
    }
    const service = opts.routes.serviceFor(path.slice(apiPrefix.length));
    if (service === undefined) {
      sendProblem(res, new NotFoundError('no such resource'), path);
      return;
    }

    const headers = forwardable(req.headers);
    const sessionCookie = cookieValue(req.headers.cookie, sessionCookieName);
    // Dashboard cookies are the edge's business, not the services'.
    delete headers.cookie;
    if (headers.authorization === undefined && sessionCookie !== undefined) {
      // SameSite=Lax already keeps the cookie off cross-site changes; the origin check also covers old
      // browsers and same-site subdomains.
      const sameOrigin =
        req.headers.origin === opts.publicOrigin || req.headers['sec-fetch-site'] === 'same-origin';
      if (!safeMethods.has(req.method ?? 'GET') && !sameOrigin) {
        sendProblem(
          res,
          new ForbiddenError('a change with the session cookie must come from the dashboard'),
          path,
        );
        return;
      }
      const session = unsealSession(opts.sealer, sessionCookie);
      if (session !== undefined) headers.authorization = `Bearer ${session.accessToken}`;
    }
    const upstream = opts.upstreams[service];
    const remote = req.socket.remoteAddress ?? '';
    const forwardedFor = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor === undefined ? remote : `${String(forwardedFor)}, ${remote}`;
    headers['x-forwarded-proto'] ??= new URL(opts.publicOrigin).protocol.slice(0, -1);
    headers['x-forwarded-host'] ??= req.headers.host ?? '';
    headers.host = upstream.host;

    const transport = upstream.protocol === 'https:' ? https : http;
    const outgoing = transport.request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: `${upstream.pathname === '/' ? '' : upstream.pathname}${url}`,
      headers,
      agent: agents[upstream.protocol === 'https:' ? 'https:' : 'http:'],
    });

    outgoing.on('response', (incoming) => {
      const answer = forwardable(incoming.headers);
      if (String(incoming.headers['content-type']).startsWith('text/event-stream')) {
        // Tells a buffering reverse proxy in front of the edge (nginx) to pass events on at once.
        answer['x-accel-buffering'] = 'no';
      }
      res.writeHead(incoming.statusCode ?? 502, answer);
      // Headers first: an event stream's client should see the answer before the first event.
      res.flushHeaders();
      incoming.pipe(res);
      incoming.on('error', () => res.destroy());
    });
    outgoing.on('error', (err) => {
      if (res.destroyed) return; // the client went away first
      if (res.headersSent) {
        res.destroy();
        return;
      }
      opts.logger.warn({ err, service, path }, 'service unreachable');
      sendProblem(res, new UnavailableError(`the ${service} service is not reachable`), path);
    });
    // A client that goes away ends the service's work too (a live session view holds a watch open).
    res.on('close', () => {
      if (!res.writableFinished) outgoing.destroy();
    });
    req.pipe(outgoing);
  };
}
