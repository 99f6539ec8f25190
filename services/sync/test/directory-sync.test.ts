import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { createBus, type Bus, type ReceivedEvent, type Subscription } from '@converge/bus';
import { topics } from '@converge/contracts';
import { createLogger } from '@converge/telemetry';
import { stack, uniqueId, type ServiceProcess } from '@converge/testing';
import {
  startConnectWiseContractFixture,
  type ConnectWiseContractFixture,
} from './fixtures/connectwise-contract-fixture.ts';
import { startGraphContractFixture, type GraphContractFixture } from './fixtures/graph-contract-fixture.ts';
import { eventually, startSyncService, type Api } from './fixtures/sync-service.ts';

interface Item {
  id: string;
  [key: string]: unknown;
}

interface Integration {
  id: string;
  lastRun: { status: string; errors: string[]; counts: Record<string, number> } | null;
}

const graphSecret = `graph-secret-${randomBytes(12).toString('hex')}`;
const psaPrivateKey = `cw-private-${randomBytes(12).toString('hex')}`;
const psaAccount = {
  companyId: 'northwind',
  publicKey: 'pub-key',
  privateKey: psaPrivateKey,
  clientId: 'converge',
};

let graph: GraphContractFixture;
let connectWise: ConnectWiseContractFixture;
let service: ServiceProcess;
let api: Api;
let prefix: string;
let bus: Bus;
let subscription: Subscription;
const events: ReceivedEvent[] = [];
const contoso = uniqueId('tenant-contoso');
const fabrikam = uniqueId('tenant-fabrikam');
const msp = uniqueId('tenant-msp');
const responses: string[] = [];

async function call(method: string, path: string, body?: unknown) {
  const response = await api.call('msp-admin', method, path, body);
  responses.push(response.text);
  return response;
}

async function integration(id: string): Promise<Integration> {
  return (await call('GET', `/integrations/${id}`)).body as Integration;
}

async function people(tenantId: string): Promise<Item[]> {
  return ((await call('GET', `/people?tenantId=${tenantId}`)).body as { items: Item[] }).items;
}

beforeAll(async () => {
  graph = await startGraphContractFixture();
  connectWise = await startConnectWiseContractFixture(
    psaAccount,
    [
      { id: 1, name: 'Contoso Ltd' },
      { id: 2, name: 'Unrelated Holdings' },
    ],
    [
      {
        id: 10,
        companyId: 1,
        name: 'Managed Services',
        typeId: 5,
        startDate: '2025-01-01T00:00:00Z',
        endDate: null,
        additions: [
          {
            id: 100,
            productId: 7,
            description: 'Antivirus',
            effectiveDate: '2025-01-01T00:00:00Z',
            cancelledDate: null,
          },
          {
            id: 101,
            productId: 8,
            description: 'Offboarding',
            effectiveDate: '2999-01-01T00:00:00Z',
            cancelledDate: null,
          },
          {
            id: 102,
            productId: 9,
            description: 'Backup',
            effectiveDate: '2024-01-01T00:00:00Z',
            cancelledDate: '2024-06-01T00:00:00Z',
          },
        ],
      },
    ],
  );
  ({ service, api, prefix } = await startSyncService({
    GRAPH_BASE_URL: graph.url,
    ENTRA_LOGIN_BASE_URL: graph.url,
    // Short, so that the schedule picks up new integrations during the test.
    SYNC_INTERVAL: '2s',
  }));
  bus = createBus({
    brokers: stack.kafkaBrokers,
    clientId: uniqueId('sync-test'),
    source: 'sync-test',
    logger: createLogger({ service: 'sync-test', level: 'warn' }),
  });
  await bus.connect();
  subscription = await bus.subscribe({
    groupId: uniqueId('sync-test'),
    topics: [topics.directoryEvents],
    fromBeginning: true,
    handle: async (event) => {
      if (event.tenantId === contoso || event.tenantId === fabrikam) events.push(event);
      return Promise.resolve();
    },
  });
  for (const [id, name, isMsp] of [
    [msp, 'Northwind', true],
    [contoso, 'Contoso', false],
    [fabrikam, 'Fabrikam', false],
  ] as const) {
    expect((await call('POST', '/tenants', { id, name, isMsp })).status).toBe(201);
  }
});

afterAll(async () => {
  await subscription.stop();
  await bus.disconnect();
  await service.stop();
  await graph.close();
  await connectWise.close();
});

describe('Entra ID sync', () => {
  let contosoIntegration: string;
  const personIdOf = async (upn: string) => (await people(contoso)).find((person) => person.upn === upn)?.id;

  it('syncs users, groups and nested memberships through paging, throttling and a 5xx, and one broken tenant fails alone', async () => {
    graph.directory('dir-contoso', graphSecret, {
      users: [
        { id: 'u1', displayName: 'Ada', userPrincipalName: 'ada@contoso.test' },
        { id: 'u2', displayName: 'Bob', userPrincipalName: 'bob@contoso.test' },
        { id: 'u3', displayName: 'Cy', userPrincipalName: 'cy@contoso.test' },
      ],
      groups: [
        {
          id: 'g1',
          displayName: 'Staff',
          members: [
            { type: 'user', id: 'u1' },
            { type: 'user', id: 'u2' },
            { type: 'group', id: 'g2' },
          ],
        },
        { id: 'g2', displayName: 'Contractors', members: [{ type: 'user', id: 'u3' }] },
      ],
    });
    graph.fail('dir-contoso', 429, 503);
    graph.directory('dir-fabrikam', 'other-secret', { users: [], groups: [] });
    graph.breakDirectory('dir-fabrikam');

    const settings = (directoryTenantId: string) => ({ directoryTenantId, clientId: 'app-id' });
    const created = await call('POST', '/integrations', {
      tenantId: contoso,
      kind: 'entra-id',
      name: 'Contoso Entra',
      settings: settings('dir-contoso'),
      secret: graphSecret,
    });
    expect(created.status).toBe(201);
    contosoIntegration = (created.body as Item).id;
    const broken = (
      await call('POST', '/integrations', {
        tenantId: fabrikam,
        kind: 'entra-id',
        name: 'Fabrikam Entra',
        settings: settings('dir-fabrikam'),
        secret: 'other-secret',
      })
    ).body as Item;

    const done = await eventually(
      async () => {
        const run = (await integration(contosoIntegration)).lastRun;
        return run?.status === 'succeeded' ? run : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(done.counts).toMatchObject({ people: 3, groups: 2 });
    expect(graph.served[429]).toBeGreaterThanOrEqual(1);
    expect(graph.served[503]).toBeGreaterThanOrEqual(1);
    expect(graph.requests.some((path) => path.includes('$skiptoken'))).toBe(true);

    const failed = await eventually(
      async () => {
        const run = (await integration(broken.id)).lastRun;
        return run?.status === 'failed' ? run : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(failed.errors.join()).toContain('500');

    const groups = ((await call('GET', `/groups?tenantId=${contoso}`)).body as { items: Item[] }).items;
    const staff = groups.find((group) => group.displayName === 'Staff');
    const members = (await call('GET', `/groups/${staff?.id ?? ''}/members`)).body as { personIds: string[] };
    const expected = await Promise.all(
      ['ada@contoso.test', 'bob@contoso.test', 'cy@contoso.test'].map(personIdOf),
    );
    expect(members.personIds).toEqual([...expected].sort());
  });

  it('applies the next delta: Entra overwrites synced fields, Converge tags stay, a removed member leaves its group', async () => {
    const ada = await personIdOf('ada@contoso.test');
    expect((await call('PATCH', `/people/${ada ?? ''}`, { tags: ['vip'] })).status).toBe(200);
    graph.change('dir-contoso', {
      users: [{ id: 'u1', displayName: 'Ada Lovelace', userPrincipalName: 'ada@contoso.test' }],
      groups: [{ id: 'g1', members: [{ type: 'user', id: 'u2', removed: true }] }],
    });
    await call('POST', `/integrations/${contosoIntegration}/sync`);

    const renamed = await eventually(
      async () => (await people(contoso)).find((person) => person.displayName === 'Ada Lovelace'),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(renamed.tags).toEqual(['vip']);
    const groups = ((await call('GET', `/groups?tenantId=${contoso}`)).body as { items: Item[] }).items;
    const staff = await eventually(
      async () => {
        const group = (
          await call('GET', `/groups/${groups.find((g) => g.displayName === 'Staff')?.id ?? ''}`)
        ).body as {
          memberPersonIds: string[];
        };
        return group.memberPersonIds.length === 1 ? group : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(staff.memberPersonIds).toEqual([ada]);
    expect(graph.requests.some((path) => path.includes('$deltatoken'))).toBe(true);
  });

  it('announces every change on sync.directory-events, keyed by tenant, with the whole aggregate', async () => {
    const ada = await personIdOf('ada@contoso.test');
    const latest = await eventually(
      () =>
        events.find(
          (event) =>
            event.type === 'converge.person.upserted.v1' &&
            (event.data as { personId: string; displayName: string }).personId === ada &&
            (event.data as { displayName: string }).displayName === 'Ada Lovelace',
        ),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(latest.subject).toBe(contoso);
    expect(latest.data).toMatchObject({
      tenantId: contoso,
      tags: ['vip'],
      entraObjectId: 'u1',
      upn: 'ada@contoso.test',
    });
    const groupEvents = await eventually(
      () => {
        const found = events.filter((event) => event.type === 'converge.group.upserted.v1');
        return found.length >= 3 ? found : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(groupEvents.map((event) => (event.data as { version: number }).version)).toContain(2);
    expect(
      events.some((event) => event.type === 'converge.tenant.upserted.v1' && event.subject === fabrikam),
    ).toBe(true);
  });
});

describe('PSA sync (ConnectWise Manage)', () => {
  it('suggests tenants for companies and syncs confirmed agreements; an addition outside its dates is inactive', async () => {
    const created = await call('POST', '/integrations', {
      tenantId: msp,
      kind: 'connectwise-manage',
      name: 'ConnectWise',
      settings: {
        apiUrl: connectWise.apiUrl,
        companyId: psaAccount.companyId,
        publicKey: psaAccount.publicKey,
        clientId: 'converge',
      },
      secret: psaPrivateKey,
    });
    const id = (created.body as Item).id;
    expect((await call('POST', `/integrations/${id}/test`)).body).toEqual({ ok: true, error: null });

    const companies = await eventually(
      async () => {
        const page = (await call('GET', `/integrations/${id}/companies`)).body as { items: Item[] };
        return page.items.length === 2 ? page.items : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(companies.find((company) => company.name === 'Contoso Ltd')?.suggestedTenantId).toBe(contoso);
    expect(companies.find((company) => company.name === 'Unrelated Holdings')?.suggestedTenantId).toBeNull();

    expect((await call('PUT', `/integrations/${id}/companies/1`, { tenantId: contoso })).status).toBe(200);
    // Now rather than at the next scheduled run; a scheduled run in progress (409) picks the mapping up too.
    expect([202, 409]).toContain((await call('POST', `/integrations/${id}/sync`)).status);
    const agreement = await eventually(
      async () => {
        const page = (await call('GET', `/psa-agreements?tenantId=${contoso}`)).body as { items: Item[] };
        return page.items[0];
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(agreement).toMatchObject({
      name: 'Managed Services',
      provider: 'connectwise-manage',
      active: true,
    });
    const additions = agreement.additions as { name: string; active: boolean }[];
    expect(Object.fromEntries(additions.map((addition) => [addition.name, addition.active]))).toEqual({
      Antivirus: true,
      Offboarding: false,
      Backup: false,
    });
    const event = await eventually(
      () => events.find((candidate) => candidate.type === 'converge.psa-agreement.upserted.v1'),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(event.data).toMatchObject({
      additions: expect.arrayContaining([
        expect.objectContaining({ name: 'Offboarding', startsAt: '2999-01-01T00:00:00.000Z', endsAt: null }),
      ]),
    });
  });

  it('reports a refused credential as a failed connection test, without the secret', async () => {
    const created = await call('POST', '/integrations', {
      tenantId: msp,
      kind: 'connectwise-manage',
      name: 'Wrong key',
      settings: {
        apiUrl: connectWise.apiUrl,
        companyId: 'northwind',
        publicKey: 'pub-key',
        clientId: 'converge',
      },
      secret: 'not-the-key',
    });
    const result = (await call('POST', `/integrations/${(created.body as Item).id}/test`)).body as {
      ok: boolean;
      error: string;
    };
    expect(result.ok).toBe(false);
    expect(result.error).toContain('401');
  });
});

describe('integration credentials', () => {
  it('are never in an API response, never in the logs, and only encrypted in the database', async () => {
    const all = await call('GET', '/integrations');
    expect((all.body as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(3);
    await call('GET', '/audit?entityType=integration');
    for (const text of responses) {
      expect(text).not.toContain(graphSecret);
      expect(text).not.toContain(psaPrivateKey);
    }
    const logs = JSON.stringify(service.logs);
    expect(logs).not.toContain(graphSecret);
    expect(logs).not.toContain(psaPrivateKey);
    expect(logs).toContain('sync run finished');

    const conn = await mongoose.createConnection(stack.mongoUri, { dbName: `${prefix}_sync` }).asPromise();
    try {
      const stored = await conn.db?.collection('integrations').find().toArray();
      const raw = JSON.stringify(stored);
      expect(stored?.length).toBeGreaterThanOrEqual(3);
      expect(stored?.every((doc) => typeof doc.sealedSecret === 'string')).toBe(true);
      expect(raw).not.toContain(graphSecret);
      expect(raw).not.toContain(psaPrivateKey);
      expect(raw).not.toContain(Buffer.from(graphSecret).toString('base64'));
    } finally {
      await conn.close();
    }
  });
});
