import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import {
  create,
  makeGrpcClient,
  ResolutionService,
  ResolveRequestSchema,
  SessionKind,
  type ResolveResponse,
} from '@converge/proto';
import { uniqueId, waitFor } from '@converge/testing';
import { wirePlan } from '../src/entry-points/grpc/resolution.grpc.ts';
import type { Resolution } from '../src/domain/deployment-resolution.ts';
import {
  computerChanged,
  computerSnapshot,
  powershellScript,
  softwareBody,
  startDeployments,
  tenantSnapshot,
  tenantUpserted,
  type Api,
  type DeploymentsUnderTest,
} from './deployments-service.ts';

let deployments: DeploymentsUnderTest;
let msp: Api;
let client: ReturnType<typeof makeGrpcClient<typeof ResolutionService.method>>;

// A customer (parent) with a site (child), and a tenant that manages its own baseline.
const customer = uniqueId('tenant-customer');
const site = uniqueId('tenant-site');
const selfManaged = uniqueId('tenant-self-managed');
const siteComputer = uniqueId('computer-site');
const customerComputer = uniqueId('computer-customer');
const selfManagedComputer = uniqueId('computer-self-managed');
const ids: Record<string, string> = {};

async function created(response: Response): Promise<{ id: string }> {
  if (response.status !== 201)
    throw new Error(`expected 201, got ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string };
}

function resolveOverGrpc(computerId: string, tenantId: string, deadline = Date.now() + 5_000) {
  return new Promise<ResolveResponse>((resolve, reject) => {
    client.resolve(
      create(ResolveRequestSchema, { computerId, tenantId, sessionKind: SessionKind.FULL }),
      { deadline },
      (error, response) => {
        if (error) reject(error);
        else if (response) resolve(response);
      },
    );
  });
}

async function preview(computerId: string): Promise<Resolution> {
  const response = await msp.get(`/computers/${computerId}/resolution?sessionKind=full`);
  if (response.status !== 200)
    throw new Error(`preview answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Resolution;
}

beforeAll(async () => {
  deployments = await startDeployments();
  msp = await deployments.as('msp-admin');
  client = makeGrpcClient(ResolutionService, deployments.grpcAddress, grpc.credentials.createInsecure());
  const { bus } = deployments;
  await bus.publishMany(tenantUpserted, [
    tenantSnapshot({ tenantId: customer }),
    tenantSnapshot({ tenantId: site, parentTenantId: customer }),
    tenantSnapshot({
      tenantId: selfManaged,
      settings: {
        onboardingEnabled: false,
        timeZone: 'UTC',
        businessHours: null,
        excludedFromCrossTenantDeployments: true,
      },
    }),
  ]);
  await bus.publishMany(computerChanged, [
    computerSnapshot({ computerId: siteComputer, tenantId: site }),
    computerSnapshot({ computerId: customerComputer, tenantId: customer }),
    computerSnapshot({ computerId: selfManagedComputer, tenantId: selfManaged }),
  ]);

  const script = await created(await msp.post('/scripts', { name: 'Detect', ...powershellScript }));
  const runtime = await created(await msp.post('/software', softwareBody('VC++ runtime', script.id)));
  ids.reader = (
    await created(
      await msp.post(
        '/software',
        softwareBody('Reader', script.id, {
          prerequisites: [
            {
              condition: { when: 'not-installed', match: 'any-of', softwareIds: [runtime.id] },
              action: { kind: 'install', softwareIds: [runtime.id] },
            },
          ],
        }),
      ),
    )
  ).id;
  ids.runtime = runtime.id;
  ids.acrobat = (await created(await msp.post('/software', softwareBody('Acrobat', script.id)))).id;
  const deploy = async (item: string, target: Record<string, unknown>, state: string) =>
    (
      await created(
        await msp.post('/deployments', {
          maintenanceItem: { kind: 'software', id: item },
          target,
          desiredState: { state },
          enforcement: 'required',
        }),
      )
    ).id;
  ids.readerEverywhere = await deploy(ids.reader, { kind: 'all-computers' }, 'installed-latest');
  // The seeds' example: this customer uses Acrobat instead of Reader, on all its sites.
  ids.noReaderForCustomer = await deploy(
    ids.reader,
    { kind: 'tenant', tenantId: customer, includeChildTenants: true },
    'uninstalled',
  );
  ids.acrobatForCustomer = await deploy(
    ids.acrobat,
    { kind: 'tenant', tenantId: customer, includeChildTenants: true },
    'installed-latest',
  );

  // The projections have caught up once every computer resolves.
  await waitFor(
    async () => {
      for (const computerId of [siteComputer, customerComputer, selfManagedComputer]) {
        if ((await msp.get(`/computers/${computerId}/resolution`)).status !== 200) return false;
      }
      return true;
    },
    { timeoutMs: 20_000 },
  );
});

afterAll(async () => {
  client.close();
  await deployments.stop();
});

describe('resolution at the edge', () => {
  it("lets a customer's own tenant deployment beat the cross-tenant one, and explains why", async () => {
    const resolution = await preview(siteComputer);
    const reader = resolution.explanations.find((item) => item.maintenanceItem.id === ids.reader);
    expect(reader?.winnerDeploymentId).toBe(ids.noReaderForCustomer);
    expect(reader?.candidates).toEqual([
      { deploymentId: ids.noReaderForCustomer, outcome: 'ranked', rank: 1, decidedBy: 'scope' },
      { deploymentId: ids.readerEverywhere, outcome: 'ranked', rank: 2, decidedBy: 'scope' },
    ]);
    // Reader is to be uninstalled, so its runtime prerequisite is not pulled in.
    expect(resolution.plan.map((item) => item.maintenanceItem.id)).toEqual([ids.acrobat, ids.reader].sort());
  });

  it('keeps cross-tenant deployments away from a tenant excluded from them', async () => {
    const resolution = await preview(selfManagedComputer);
    expect(resolution.plan).toEqual([]);
    expect(resolution.explanations).toEqual([
      {
        maintenanceItem: { kind: 'software', id: ids.reader },
        winnerDeploymentId: null,
        candidates: [
          {
            deploymentId: ids.readerEverywhere,
            outcome: 'dropped',
            reason: 'tenant-excluded-from-cross-tenant',
          },
        ],
      },
    ]);
  });

  it('answers gRPC Resolve with exactly the plan the preview shows', async () => {
    for (const [computerId, tenantId] of [
      [siteComputer, site],
      [customerComputer, customer],
      [selfManagedComputer, selfManaged],
    ] as const) {
      const [overGrpc, previewed] = await Promise.all([
        resolveOverGrpc(computerId, tenantId),
        preview(computerId),
      ]);
      expect(overGrpc.items).toEqual(wirePlan(previewed));
    }
    const customerPlan = await resolveOverGrpc(customerComputer, customer);
    expect(
      customerPlan.items.map((item) => [item.maintenanceItemId, item.order, item.prerequisiteOf]),
    ).toEqual([ids.acrobat, ids.reader].sort().map((id, order) => [id, order, []]));
  });

  it('expands prerequisites first where the cross-tenant deployment wins', async () => {
    const extra = uniqueId('computer-extra');
    const tenant = uniqueId('tenant-plain');
    await deployments.bus.publish(tenantUpserted, tenantSnapshot({ tenantId: tenant }));
    await deployments.bus.publish(computerChanged, computerSnapshot({ computerId: extra, tenantId: tenant }));
    await waitFor(async () => (await msp.get(`/computers/${extra}/resolution`)).status === 200, {
      timeoutMs: 20_000,
    });
    const response = await resolveOverGrpc(extra, tenant);
    expect(
      response.items.map((item) => [item.maintenanceItemId, item.deploymentId, item.prerequisiteOf]),
    ).toEqual([
      [ids.runtime, '', [ids.reader]],
      [ids.reader, ids.readerEverywhere, []],
    ]);
    expect(response.items).toEqual(wirePlan(await preview(extra)));
  });

  it('refuses a computer outside the asked tenant, and a call past its deadline', async () => {
    await expect(resolveOverGrpc(siteComputer, customer)).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    await expect(resolveOverGrpc(siteComputer, site, Date.now() - 1)).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
  });

  it('lists the computers a deployment wins on, a page at a time', async () => {
    const first = (await (
      await msp.get(`/deployments/${ids.acrobatForCustomer}/winning-computers?limit=1`)
    ).json()) as { items: { computerId: string }[]; nextCursor: string | null };
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = (await (
      await msp.get(
        `/deployments/${ids.acrobatForCustomer}/winning-computers?limit=1&cursor=${first.nextCursor ?? ''}`,
      )
    ).json()) as { items: { computerId: string }[]; nextCursor: string | null };
    expect([...first.items, ...second.items].map((item) => item.computerId).sort()).toEqual(
      [siteComputer, customerComputer].sort(),
    );
    expect(second.nextCursor).toBeNull();

    const crossTenant = (await (
      await msp.get(`/deployments/${ids.readerEverywhere}/winning-computers?limit=200`)
    ).json()) as { items: { computerId: string }[] };
    const winners = crossTenant.items.map((item) => item.computerId);
    for (const loser of [siteComputer, customerComputer, selfManagedComputer])
      expect(winners).not.toContain(loser);
  });

  it('applies computer snapshots only when newer, so a late, older one changes nothing', async () => {
    const computerId = uniqueId('computer-versions');
    await deployments.bus.publish(
      computerChanged,
      computerSnapshot({ computerId, tenantId: site, version: 2, excludedFromMaintenance: true }),
    );
    await deployments.bus.publish(
      computerChanged,
      computerSnapshot({ computerId, tenantId: site, version: 1 }),
    );
    const marker = uniqueId('computer-marker');
    await deployments.bus.publish(computerChanged, computerSnapshot({ computerId: marker, tenantId: site }));
    // Events of one partition are applied in order; the marker may sit on another, so wait for both.
    await waitFor(async () => (await msp.get(`/computers/${marker}/resolution`)).status === 200, {
      timeoutMs: 20_000,
    });
    await waitFor(async () => (await msp.get(`/computers/${computerId}/resolution`)).status === 200, {
      timeoutMs: 20_000,
    });
    const resolution = await preview(computerId);
    expect(resolution.plan).toEqual([]);
    for (const item of resolution.explanations) {
      for (const candidate of item.candidates)
        expect(candidate).toMatchObject({ reason: 'computer-excluded-from-maintenance' });
    }
  });
});
