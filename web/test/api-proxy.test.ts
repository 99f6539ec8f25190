import { randomBytes } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@converge/telemetry';
import { getAccessToken } from '@converge/testing';
import type { ApiService } from '../server/api-services.ts';
import { createEdge, loadMergedDocument } from '../server/edge.ts';
import { CookieSealer, sessionCookieName } from '../server/session-cookie.ts';
import { startLocalSystem, type LocalSystem } from './local-system.ts';

const logger = createLogger({ service: 'web-test', level: 'silent' });
const sessionKey = randomBytes(32);
let system: LocalSystem;
let edge: Server;
let origin: string;
let adminToken: string;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startEdge(upstreams: Record<ApiService, URL>): Promise<{ server: Server; origin: string }> {
  const server = await createEdge({ logger, upstreams, publicOrigin: 'http://dashboard.test', sessionKey });
  return { server, origin: await listen(server) };
}

async function call(base: string, path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), text, response };
}

/** A body without what differs between two answers to the same request (trace ids). */
function comparable(text: string): unknown {
  if (text === '') return '';
  const body = JSON.parse(text) as Record<string, unknown>;
  delete body.traceId;
  return body;
}

beforeAll(async () => {
  system = await startLocalSystem();
  ({ server: edge, origin } = await startEdge(system.upstreams));
  adminToken = await getAccessToken('msp-admin');
}, 120_000);

afterAll(async () => {
  edge.closeAllConnections();
  edge.close();
  await system.stop();
});

describe('the public API origin', () => {
  it('answers every path of every service as that service answers it directly', async () => {
    const document = await loadMergedDocument();
    const checked: string[] = [];
    for (const [template, item] of Object.entries(document.paths ?? {})) {
      if (!('get' in item) || template.endsWith('/live')) continue;
      const path = template.replace(/\{[^}]+\}/g, 'no-such-id');
      const service = item['x-converge-service'] as ApiService;
      const headers = { authorization: `Bearer ${adminToken}` };
      const [viaEdge, direct] = await Promise.all([
        call(origin, `/api/v1${path}`, { headers }),
        call(system.services[service].baseUrl, `/api/v1${path}`, { headers }),
      ]);
      expect({ path, status: viaEdge.status }).toEqual({ path, status: direct.status });
      expect(comparable(viaEdge.text)).toEqual(comparable(direct.text));
      checked.push(service);
    }
    expect(new Set(checked)).toEqual(new Set(Object.keys(system.services)));
  });

  it('routes a path to the service that describes it, even below another service’s resource', async () => {
    const headers = { authorization: `Bearer ${adminToken}` };
    const resolution = await call(origin, '/api/v1/computers/no-such-computer/resolution', { headers });
    const direct = await call(
      system.services.deployments.baseUrl,
      '/api/v1/computers/no-such-computer/resolution',
      {
        headers,
      },
    );
    expect(resolution.status).toBe(direct.status);
    expect(comparable(resolution.text)).toEqual(comparable(direct.text));
  });

  it('answers a path no service describes with a 404 problem', async () => {
    for (const path of ['/api/v1', '/api/v1/', '/api/v1/no-such-thing', '/api/v1/computers/a/b/c/d']) {
      const { status, type, text } = await call(origin, path, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect({ path, status, type }).toEqual({ path, status: 404, type: 'application/problem+json' });
      expect(JSON.parse(text)).toMatchObject({
        status: 404,
        title: 'Not Found',
        instance: path.split('?')[0],
      });
    }
  });

  it('passes a partner’s client-credentials token through', async () => {
    const partner = await getAccessToken('partner');
    const { status, text } = await call(origin, '/api/v1/tenants?limit=5', {
      headers: { authorization: `Bearer ${partner}` },
    });
    expect(status).toBe(200);
    expect(JSON.parse(text)).toHaveProperty('items');
  });

  it('passes the service’s 401 problem through to a caller without a token', async () => {
    const { status, type, response } = await call(origin, '/api/v1/computers');
    expect(status).toBe(401);
    expect(type).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('puts the dashboard session’s access token on a request that carries only the session cookie', async () => {
    const cookie = `${sessionCookieName}=${new CookieSealer(sessionKey).seal({
      accessToken: adminToken,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      user: { sub: 'msp-admin', name: 'Morgan', roles: ['msp-admin'] },
    })}`;
    expect((await call(origin, '/api/v1/computers?limit=1', { headers: { cookie } })).status).toBe(200);
    const crossSite = await call(origin, '/api/v1/tenants', {
      method: 'POST',
      headers: { cookie, origin: 'http://elsewhere.test', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.type).toBe('application/problem+json');
    const forged = await call(origin, '/api/v1/computers', {
      headers: { cookie: `${sessionCookieName}=v1.forged` },
    });
    expect(forged.status).toBe(401);
  });

  it('serves the merged OpenAPI document and its reference page', async () => {
    const { status, text } = await call(origin, '/api/v1/openapi.json');
    expect(status).toBe(200);
    const document = JSON.parse(text) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/computers',
        '/deployments',
        '/sessions/{sessionId}/live',
        '/agents',
        '/tenants',
      ]),
    );
    const page = await call(origin, '/api/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/api/docs/init.js');
    expect((await call(origin, '/api/docs/init.js')).text).toContain("url: '/api/v1/openapi.json'");
    expect((await call(origin, '/api/docs/swagger-ui-bundle.js')).status).toBe(200);
  });

  it('streams server-sent events through as they are written, without buffering', async () => {
    // A service that writes one event every 100 ms and then ends.
    const stream = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      let sent = 0;
      const timer = setInterval(() => {
        res.write(`event: log\ndata: ${JSON.stringify({ line: sent, at: Date.now() })}\n\n`);
        if (++sent === 5) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
    });
    const streamUrl = new URL(await listen(stream));
    const { server, origin: streamingOrigin } = await startEdge({ ...system.upstreams, sessions: streamUrl });
    try {
      const response = await fetch(`${streamingOrigin}/api/v1/sessions/any/live`, {
        headers: { authorization: 'Bearer anything' },
      });
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      const delays: number[] = [];
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        for (const match of buffered.matchAll(/data: (\{.*\})\n\n/g)) {
          delays.push(Date.now() - (JSON.parse(match[1]!) as { at: number }).at);
        }
        buffered = buffered.slice(buffered.lastIndexOf('\n\n') + 2);
      }
      expect(delays).toHaveLength(5);
      // Each event arrives when written, not when the stream ends 100-400 ms later.
      expect(Math.max(...delays)).toBeLessThan(60);
    } finally {
      server.closeAllConnections();
      server.close();
      stream.closeAllConnections();
      stream.close();
    }
  });
});
