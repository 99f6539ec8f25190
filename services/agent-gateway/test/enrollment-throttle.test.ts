import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { AgentGatewayService, create, EnrollRequestSchema, makeGrpcClient, toBinary } from '@converge/proto';
import { getAccessToken, uniqueId } from '@converge/testing';
import {
  createInstallToken,
  enrollOverHttp,
  startGateway,
  storeOperations,
  type Gateway,
} from './gateway-harness.ts';

// Issue 12, item 7: enrollment was not throttled (300 bad attempts in 0.9 s, each a store read). Refused
// attempts now take from a token bucket per client address and per install token id, kept in Redis for every
// replica; an empty bucket answers 429 with Retry-After before the store is read.

const tenantId = 'tenant-contoso';
const burst = 5;
// One token a second: Retry-After is 1 s.
const throttle = {
  ENROLLMENT_ADDRESS_BURST: String(burst),
  ENROLLMENT_ADDRESS_PER_MINUTE: '60',
  ENROLLMENT_TOKEN_BURST: String(burst),
  ENROLLMENT_TOKEN_PER_MINUTE: '60',
};
const proxiedPrefix = uniqueId('gw').replace(/-/g, '_');
/** Behind one trusted proxy: the client address is the last `x-forwarded-for` entry. */
let proxied: Gateway;
/** Reached directly: `x-forwarded-for` is whatever the client says, and ignored. */
let direct: Gateway;
let adminToken: string;

function badToken(id = uniqueId('token')): string {
  return `${id}.${randomBytes(32).toString('base64url')}`;
}

let addressCounter = 0;
/** A client address no other test uses (documentation range 198.51.100.0/24, then 203.0.113.0/24). */
function newAddress(): string {
  addressCounter += 1;
  return addressCounter < 255 ? `198.51.100.${addressCounter}` : `203.0.113.${addressCounter - 254}`;
}

async function attempt(gateway: Gateway, installToken: string, forwardedFor?: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${String(gateway.agentPort)}/agent/v1/enroll`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
    },
    body: toBinary(EnrollRequestSchema, create(EnrollRequestSchema, { installToken })),
  });
}

async function attemptOverGrpc(
  gateway: Gateway,
  installToken: string,
  forwardedFor: string,
): Promise<{ code: grpc.status; retryAfter: string | undefined }> {
  const client = makeGrpcClient(
    AgentGatewayService,
    `127.0.0.1:${String(gateway.agentGrpcPort)}`,
    grpc.credentials.createInsecure(),
  );
  const metadata = new grpc.Metadata();
  metadata.set('x-forwarded-for', forwardedFor);
  try {
    return await new Promise((resolve) => {
      client.enroll(
        create(EnrollRequestSchema, { installToken }),
        metadata,
        { deadline: Date.now() + 5_000 },
        (error) => {
          const retryAfter = error?.metadata.get('retry-after')[0];
          resolve({
            code: error?.code ?? grpc.status.OK,
            retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
          });
        },
      );
    });
  } finally {
    client.close();
  }
}

function count(statuses: readonly number[], wanted: number): number {
  return statuses.filter((status) => status === wanted).length;
}

beforeAll(async () => {
  adminToken = await getAccessToken('tenant-admin');
  [proxied, direct] = await Promise.all([
    startGateway({
      ...throttle,
      AGENT_TRUSTED_PROXIES: '1',
      MONGO_DATABASE_PREFIX: proxiedPrefix,
      COMMANDS_GROUP_ID: uniqueId('gateway-commands'),
      REDIS_KEY_PREFIX: uniqueId('gw'),
      REPLICA_ID: uniqueId('replica'),
    }),
    startGateway({
      ...throttle,
      MONGO_DATABASE_PREFIX: uniqueId('gw').replace(/-/g, '_'),
      COMMANDS_GROUP_ID: uniqueId('gateway-commands'),
      REDIS_KEY_PREFIX: uniqueId('gw'),
      REPLICA_ID: uniqueId('replica'),
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([proxied.service.stop(), direct.service.stop()]);
});

describe('enrollment throttling', () => {
  it('answers a burst of bad attempts from one address with 429 and Retry-After, without reading the store', async () => {
    const address = newAddress();
    const before = await storeOperations(proxied, proxiedPrefix);
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => attempt(proxied, badToken(), `192.0.2.99, ${address}`)),
    );
    const statuses = responses.map((response) => response.status);
    // The burst is refused as before (401); a token a second may come back while the burst runs.
    expect(count(statuses, 401)).toBeGreaterThanOrEqual(burst);
    expect(count(statuses, 401)).toBeLessThanOrEqual(burst + 1);
    expect(count(statuses, 429)).toBe(30 - count(statuses, 401));

    const limited = responses.find((response) => response.status === 429);
    expect(limited?.headers.get('content-type')).toContain('application/problem+json');
    expect(limited?.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(await limited?.json()).toMatchObject({ status: 429, instance: '/agent/v1/enroll' });
    // Only the admitted attempts looked for their install token.
    const reads = (await storeOperations(proxied, proxiedPrefix)) - before;
    expect(reads).toBeLessThanOrEqual(count(statuses, 401) + 2);
  });

  it('admits the address again once Retry-After has passed', async () => {
    const address = newAddress();
    let limited: Response | undefined;
    for (let i = 0; i <= burst && limited === undefined; i++) {
      const response = await attempt(proxied, badToken(), address);
      if (response.status === 429) limited = response;
    }
    expect(limited?.status).toBe(429);
    const retryAfterSeconds = Number(limited?.headers.get('retry-after'));
    await new Promise((resolve) => setTimeout(resolve, retryAfterSeconds * 1000 + 100));
    expect((await attempt(proxied, badToken(), address)).status).toBe(401);
  });

  it('throttles gRPC Enroll the same way, with RESOURCE_EXHAUSTED and retry-after', async () => {
    const address = newAddress();
    const answers = await Promise.all(
      Array.from({ length: burst + 5 }, () => attemptOverGrpc(proxied, badToken(), address)),
    );
    const codes = answers.map((answer) => answer.code);
    expect(count(codes, grpc.status.UNAUTHENTICATED)).toBeLessThanOrEqual(burst + 1);
    const exhausted = answers.filter((answer) => answer.code === grpc.status.RESOURCE_EXHAUSTED);
    expect(exhausted.length).toBeGreaterThanOrEqual(4);
    expect(exhausted[0]?.retryAfter).toMatch(/^[1-9][0-9]*$/);
  });

  it('throttles attempts naming one install token from many addresses, and no other token', async () => {
    const target = await createInstallToken(proxied, adminToken, { tenantId, maxUses: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < burst + 3; i++) {
      statuses.push((await attempt(proxied, badToken(target.id), newAddress())).status);
    }
    expect(statuses.slice(0, burst)).toEqual(Array.from({ length: burst }, () => 401));
    expect(count(statuses, 429)).toBeGreaterThanOrEqual(2);

    const other = await createInstallToken(proxied, adminToken, { tenantId });
    const response = await attempt(proxied, other.token, newAddress());
    expect(response.status).toBe(200);
  });

  it('counts refused attempts only: a site enrolling more machines than the burst from one address succeeds', async () => {
    const site = newAddress();
    const { token } = await createInstallToken(proxied, adminToken, { tenantId, maxUses: burst * 3 });
    const statuses: number[] = [];
    for (let i = 0; i < burst * 3; i++) statuses.push((await attempt(proxied, token, site)).status);
    expect(statuses).toEqual(Array.from({ length: burst * 3 }, () => 200));
  });

  it('trusts no x-forwarded-for from a client that reaches the gateway directly', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < burst + 3; i++) {
      statuses.push((await attempt(direct, badToken(), newAddress())).status);
    }
    expect(count(statuses, 429)).toBeGreaterThanOrEqual(2);
    // The direct gateway's own enrollments still work from the same (loopback) address.
    const { token } = await createInstallToken(direct, adminToken, { tenantId });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await enrollOverHttp(direct, token)).toMatchObject({ agentId: expect.any(String) });
  });
});
