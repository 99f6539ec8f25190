import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTokenVerifier } from '@converge/auth';
import { NotFoundError } from '@converge/errors';
import { createLogger, startTelemetry, type Telemetry } from '@converge/telemetry';
import { getAccessToken, stack } from '@converge/testing';
import { base64url, UnsecuredJWT } from 'jose';
import { createHttpApp, principalOf, startHttpServer, type HttpServer } from '../src/index.ts';
import { resignedToken } from './signed-tokens.ts';

const logLines: Record<string, unknown>[] = [];
let dependencyUp = true;
let telemetry: Telemetry;
let server: HttpServer;
let token: string;

function url(path: string): string {
  return `http://127.0.0.1:${String(server.port)}${path}`;
}

function authorized(headers: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...headers };
}

function postJson(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url(path), {
    method: 'POST',
    headers: authorized({ 'content-type': 'application/json', ...headers }),
    body,
  });
}

async function problemOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: 'http-test' });
  const logger = createLogger({
    service: 'http-test',
    destination: { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const app = createHttpApp({
    service: 'http-test',
    logger,
    readiness: [
      { name: 'always', check: () => Promise.resolve(true) },
      { name: 'dependency', check: () => Promise.resolve(dependencyUp) },
    ],
    verifyToken: createTokenVerifier({ issuer: stack.oidcIssuer, audience: stack.apiAudience }),
    openApiDocument: fileURLToPath(new URL('things.openapi.yaml', import.meta.url)),
    metricsHandler: (_req, res) => {
      res.type('text/plain').send('up 1\n');
    },
    routes: (router) => {
      router.get('/me', (_req, res) => {
        res.json(principalOf(res));
      });
      router.post('/things', (req, res) => {
        res.status(201).json(req.body);
      });
      router.post('/missing-thing', () => {
        throw new NotFoundError('thing 42 does not exist');
      });
      router.get('/broken', () => Promise.reject(new Error('mongodb://admin:hunter2@db is down')));
    },
  });
  [server, token] = await Promise.all([
    startHttpServer(app, { host: '127.0.0.1', port: 0 }),
    getAccessToken('msp-admin'),
  ]);
});

afterAll(async () => {
  await server.close();
  await telemetry.shutdown();
});

describe('authentication of /api', () => {
  it('lets a valid token from the provider through and gives the route its principal', async () => {
    const response = await fetch(url('/api/v1/me'), { headers: authorized() });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ subject: 'msp-admin', kind: 'user', roles: ['msp-admin'] });
  });

  it('accepts a token re-signed with the provider key, so the rejections below are about claims', async () => {
    const resigned = await resignedToken(token, (claims) => claims);

    const response = await fetch(url('/api/v1/me'), { headers: { authorization: `Bearer ${resigned}` } });

    expect(response.status).toBe(200);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const badTokens: [string, () => Promise<string | undefined>][] = [
    ['no token', () => Promise.resolve(undefined)],
    ['a token that is not a JWT', () => Promise.resolve('not-a-jwt')],
    ['an expired token', () => resignedToken(token, (c) => ({ ...c, iat: now() - 7200, exp: now() - 3600 }))],
    [
      'a token for another audience',
      () => resignedToken(token, (c) => ({ ...c, aud: 'api://someone-else' })),
    ],
    ['a token from another issuer', () => resignedToken(token, (c) => ({ ...c, iss: 'http://127.0.0.1:1' }))],
    ['an unsigned token (alg: none)', () => Promise.resolve(new UnsecuredJWT(decodeClaims(token)).encode())],
    ['a token whose claims were changed after signing', () => Promise.resolve(tampered(token))],
  ];

  it.each(badTokens)('answers %s with 401 problem+json and a Bearer challenge', async (_case, makeToken) => {
    const bad = await makeToken();
    const headers: Record<string, string> = bad === undefined ? {} : { authorization: `Bearer ${bad}` };

    const response = await fetch(url('/api/v1/me'), { headers });

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await problemOf(response)).toMatchObject({
      status: 401,
      type: 'https://converge.dev/problems/unauthorized',
      instance: '/api/v1/me',
    });
  });

  it('leaves /healthz and /readyz open to probes without a token', async () => {
    expect((await fetch(url('/healthz'))).status).toBe(200);
    expect((await fetch(url('/readyz'))).status).toBe(200);
  });
});

function decodeClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64url.decode(jwt.split('.')[1] ?? ''))) as Record<
    string,
    unknown
  >;
}

function tampered(jwt: string): string {
  const [header = '', , signature = ''] = jwt.split('.');
  const claims = { ...decodeClaims(jwt), tid: 'tenant-someone-else' };
  return [header, base64url.encode(JSON.stringify(claims)), signature].join('.');
}

describe('request validation against the OpenAPI document', () => {
  it('passes a valid body to the route', async () => {
    const response = await postJson('/api/v1/things', JSON.stringify({ name: 'printer', count: 2 }));

    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ name: 'printer', count: 2 });
  });

  it('answers an invalid body with 400 problem+json listing each failing field', async () => {
    const response = await postJson('/api/v1/things', JSON.stringify({ count: 0 }));

    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.type).toBe('https://converge.dev/problems/validation');
    const paths = (problem.errors as { path: string }[]).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(['/body/name', '/body/count']));
  });

  it('answers a body that is not JSON with 400 problem+json', async () => {
    const response = await postJson('/api/v1/things', '{"name":');

    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ type: 'https://converge.dev/problems/validation' });
  });

  it('answers a route nobody serves with 404 problem+json', async () => {
    const response = await fetch(url('/api/v1/nothing-here'), { headers: authorized() });

    expect(response.status).toBe(404);
    expect(await problemOf(response)).toMatchObject({ status: 404, instance: '/api/v1/nothing-here' });
  });
});

describe('errors', () => {
  it('maps a thrown NotFoundError to 404 problem+json carrying the trace id the caller started', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

    const response = await postJson('/api/v1/missing-thing', '{}', {
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });

    expect(response.status).toBe(404);
    expect(await problemOf(response)).toEqual({
      type: 'https://converge.dev/problems/not-found',
      title: 'Not Found',
      status: 404,
      detail: 'thing 42 does not exist',
      instance: '/api/v1/missing-thing',
      traceId,
    });
  });

  it('answers an unexpected error with a generic 500 and keeps its message in the process log', async () => {
    const response = await fetch(url('/api/v1/broken'), { headers: authorized() });

    expect(response.status).toBe(500);
    const body = JSON.stringify(await problemOf(response));
    expect(body).not.toMatch(/hunter2|mongodb|Error:/);
    const logged = logLines.find((line) => line.level === 'error' && line.msg === 'request failed');
    expect(JSON.stringify(logged)).toContain('hunter2');
  });

  it('logs only 5xx as errors', () => {
    const errorLines = logLines.filter((line) => line.level === 'error');

    expect(errorLines.map((line) => line.msg)).toEqual(['request failed']);
  });
});

describe('operations endpoints and request logs', () => {
  it('reports not ready with the failing check while a dependency is down, and ready again after', async () => {
    dependencyUp = false;
    const down = await fetch(url('/readyz'));
    dependencyUp = true;
    const up = await fetch(url('/readyz'));

    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'not ready', checks: { always: 'up', dependency: 'down' } });
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ready', checks: { always: 'up', dependency: 'up' } });
  });

  it('serves /metrics through the given handler', async () => {
    const response = await fetch(url('/metrics'));

    expect(await response.text()).toBe('up 1\n');
  });

  it('echoes a caller request id and makes one up otherwise', async () => {
    const given = await fetch(url('/healthz'), { headers: { 'x-request-id': 'req-123' } });
    const made = await fetch(url('/healthz'));

    expect(given.headers.get('x-request-id')).toBe('req-123');
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs one line per request with its trace id and never the token', async () => {
    await fetch(url('/api/v1/me'), { headers: authorized({ 'x-request-id': 'log-line-check' }) });
    // The line is written when the response closes, which may be just after the client has it.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const line = logLines.find((entry) => entry.requestId === 'log-line-check');
    expect(line).toMatchObject({ msg: 'request', method: 'GET', path: '/api/v1/me', status: 200 });
    expect(line?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(logLines)).not.toContain(token);
  });

  it('keeps successful probes out of the info log', async () => {
    await fetch(url('/healthz'), { headers: { 'x-request-id': 'probe-check' } });
    await fetch(url('/readyz'), { headers: { 'x-request-id': 'probe-check' } });
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(logLines.filter((entry) => entry.requestId === 'probe-check')).toEqual([]);
  });
});
