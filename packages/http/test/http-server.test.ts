import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTokenVerifier } from '@converge/auth';
import { createLogger } from '@converge/telemetry';
import { getAccessToken, stack } from '@converge/testing';
import { createHttpApp, startHttpServer, type HttpServer } from '../src/index.ts';

let token: string;
let releaseSlowRequest = (): void => undefined;
let slowRequestArrived = (): void => undefined;

const app = createHttpApp({
  service: 'http-server-test',
  logger: createLogger({ service: 'http-server-test', level: 'silent' }),
  readiness: [],
  verifyToken: createTokenVerifier({ issuer: stack.oidcIssuer, audience: stack.apiAudience }),
  routes: (router) => {
    router.get('/slow', async (_req, res) => {
      const released = new Promise<void>((resolve) => {
        releaseSlowRequest = resolve;
      });
      slowRequestArrived();
      await released;
      res.json({ finished: true });
    });
  },
});

function slowRequest(server: HttpServer): { arrived: Promise<void>; response: Promise<Response> } {
  const arrived = new Promise<void>((resolve) => {
    slowRequestArrived = resolve;
  });
  const response = fetch(`http://127.0.0.1:${String(server.port)}/api/v1/slow`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { arrived, response };
}

function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      setTimeout(() => {
        resolve(false);
      }, ms);
    }),
  ]);
}

beforeAll(async () => {
  token = await getAccessToken('tenant-admin');
});

afterAll(() => {
  releaseSlowRequest();
});

describe('startHttpServer', () => {
  it('listens on a free port when asked for port 0', async () => {
    const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 });

    expect(server.port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${String(server.port)}/healthz`)).status).toBe(200);
    await server.close();
  });

  it('on close stops taking connections but lets an in-flight request finish first', async () => {
    const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
    const { arrived, response } = slowRequest(server);
    await arrived;

    const closed = server.close(5000);

    expect(await settledWithin(closed, 200)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${String(server.port)}/healthz`)).rejects.toThrow();
    releaseSlowRequest();
    expect((await response).status).toBe(200);
    expect(await settledWithin(closed, 2000)).toBe(true);
  });

  it('cuts off a request still running at the close deadline', async () => {
    const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
    const { arrived, response } = slowRequest(server);
    await arrived;

    await server.close(100);

    await expect(response).rejects.toThrow();
  });
});
