import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { devClients, devTenants, devUsers, seedDevTenants } from '@converge/dev-oidc';
import { stack, type ServiceProcess } from '@converge/testing';
import { startSyncService, type Api } from './fixtures/sync-service.ts';

// `npm start` seeds the development identity provider's tenants, so that a fresh system's directory holds the
// tenant every seeded user's token names.

let service: ServiceProcess;
let api: Api;

beforeAll(async () => {
  ({ service, api } = await startSyncService());
});

afterAll(async () => {
  await service.stop();
});

describe('the development tenants', () => {
  it('include the tenant of every seeded user and of the partner client', () => {
    const ids = devTenants.map((tenant) => tenant.id);
    for (const user of Object.values(devUsers)) expect(ids).toContain(user.tenantId);
    expect(ids).toContain(devClients.partner.tenantId);
  });

  it('are created once, even by runs at the same moment, and a later run changes nothing', async () => {
    const seed = () => seedDevTenants({ issuer: stack.oidcIssuer, syncUrl: service.baseUrl });
    const runs = await Promise.all([seed(), seed(), seed()]);
    expect(runs.flat().sort()).toEqual(devTenants.map((tenant) => tenant.id).sort());
    expect(await seed()).toEqual([]);

    const listed = (await api.call('msp-admin', 'GET', '/tenants?limit=200')).body as {
      items: { id: string; name: string; isMsp: boolean; version: number }[];
    };
    expect(listed.items.map(({ id, name, isMsp, version }) => ({ id, name, isMsp, version }))).toEqual(
      expect.arrayContaining(devTenants.map((tenant) => ({ ...tenant, version: 1 }))),
    );
    expect(listed.items).toHaveLength(devTenants.length);
  });

  it('leave a tenant an MSP admin already made under a seeded id as it is', async () => {
    const renamed = await api.call('msp-admin', 'PATCH', '/tenants/tenant-contoso', { name: 'Contoso Ltd' });
    expect(renamed.status).toBe(200);
    expect(await seedDevTenants({ issuer: stack.oidcIssuer, syncUrl: service.baseUrl })).toEqual([]);
    expect((await api.call('msp-admin', 'GET', '/tenants/tenant-contoso')).body).toMatchObject({
      name: 'Contoso Ltd',
    });
  });
});
