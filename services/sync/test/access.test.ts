import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Role } from '@converge/auth';
import { uniqueId, waitFor, type ServiceProcess } from '@converge/testing';
import { inviteAndRedeem, roles, startSyncService, type Api } from './fixtures/sync-service.ts';

let service: ServiceProcess;
let api: Api;
let contosoPerson: string;
let fabrikamPerson: string;

interface Item {
  id: string;
  [key: string]: unknown;
}

beforeAll(async () => {
  ({ service, api } = await startSyncService());
  for (const [id, name, isMsp] of [
    ['tenant-msp', 'Northwind MSP', true],
    ['tenant-contoso', 'Contoso', false],
    ['tenant-fabrikam', 'Fabrikam', false],
  ] as const) {
    expect((await api.call('msp-admin', 'POST', '/tenants', { id, name, isMsp })).status).toBe(201);
  }
  const person = async (tenantId: string) => {
    const created = await api.call('msp-admin', 'POST', '/people', {
      tenantId,
      displayName: `Person of ${tenantId}`,
    });
    return (created.body as Item).id;
  };
  contosoPerson = await person('tenant-contoso');
  fabrikamPerson = await person('tenant-fabrikam');
});

afterAll(async () => {
  await service.stop();
});

const everyone: Role[] = roles;
const admins: Role[] = ['msp-admin', 'tenant-admin'];
const mspAdmin: Role[] = ['msp-admin'];

interface MatrixRow {
  endpoint: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  allowed: Role[];
}

// Every endpoint of the service, with the roles that get past authorization. A by-id route for an id that
// does not exist answers 404 to the allowed and 403 to the others, so no row changes what the next one sees.
const matrix: MatrixRow[] = [
  { endpoint: 'list tenants', method: 'GET', path: () => '/tenants', allowed: everyone },
  {
    endpoint: 'create tenant',
    method: 'POST',
    path: () => '/tenants',
    body: () => ({ name: uniqueId('Tenant') }),
    allowed: mspAdmin,
  },
  { endpoint: 'get tenant', method: 'GET', path: () => '/tenants/tenant-contoso', allowed: everyone },
  {
    endpoint: 'update tenant',
    method: 'PATCH',
    path: () => '/tenants/tenant-contoso',
    body: () => ({ tags: ['gold'] }),
    allowed: mspAdmin,
  },
  { endpoint: 'delete tenant', method: 'DELETE', path: () => '/tenants/tenant-none', allowed: mspAdmin },
  { endpoint: 'list people', method: 'GET', path: () => '/people', allowed: everyone },
  {
    endpoint: 'create person',
    method: 'POST',
    path: () => '/people',
    body: () => ({ tenantId: 'tenant-contoso', displayName: 'New Person' }),
    allowed: admins,
  },
  { endpoint: 'get person', method: 'GET', path: () => `/people/${contosoPerson}`, allowed: everyone },
  {
    endpoint: 'update person',
    method: 'PATCH',
    path: () => `/people/${contosoPerson}`,
    body: () => ({ tags: ['vip'] }),
    allowed: admins,
  },
  { endpoint: 'list groups', method: 'GET', path: () => '/groups', allowed: everyone },
  { endpoint: 'get group', method: 'GET', path: () => '/groups/group-none', allowed: everyone },
  {
    endpoint: 'get group members',
    method: 'GET',
    path: () => '/groups/group-none/members',
    allowed: everyone,
  },
  { endpoint: 'list PSA agreements', method: 'GET', path: () => '/psa-agreements', allowed: everyone },
  {
    endpoint: 'get PSA agreement',
    method: 'GET',
    path: () => '/psa-agreements/agreement-none',
    allowed: everyone,
  },
  { endpoint: 'list users', method: 'GET', path: () => '/users', allowed: admins },
  {
    endpoint: 'create user',
    method: 'POST',
    path: () => '/users',
    body: () => ({ personId: 'person-none', role: 'tenant-non-admin' }),
    allowed: admins,
  },
  {
    endpoint: 'redeem invitation',
    method: 'POST',
    path: () => '/invitations/redeem',
    body: () => ({ code: 'no-such-code' }),
    allowed: everyone,
  },
  { endpoint: 'get user', method: 'GET', path: () => '/users/user-none', allowed: admins },
  {
    endpoint: 'update user',
    method: 'PATCH',
    path: () => '/users/user-none',
    body: () => ({ role: 'tenant-admin' }),
    allowed: admins,
  },
  { endpoint: 'delete user', method: 'DELETE', path: () => '/users/user-none', allowed: admins },
  {
    endpoint: 'request access',
    method: 'POST',
    path: () => '/access-requests',
    body: () => ({}),
    allowed: everyone,
  },
  { endpoint: 'list access requests', method: 'GET', path: () => '/access-requests', allowed: admins },
  {
    endpoint: 'approve access request',
    method: 'POST',
    path: () => '/access-requests/request-none/approve',
    body: () => ({ role: 'tenant-non-admin' }),
    allowed: admins,
  },
  {
    endpoint: 'deny access request',
    method: 'POST',
    path: () => '/access-requests/request-none/deny',
    allowed: admins,
  },
  { endpoint: 'list integrations', method: 'GET', path: () => '/integrations', allowed: mspAdmin },
  {
    endpoint: 'create integration',
    method: 'POST',
    path: () => '/integrations',
    body: () => ({
      tenantId: 'tenant-fabrikam',
      kind: 'connectwise-manage',
      name: uniqueId('psa'),
      settings: { apiUrl: 'http://127.0.0.1:9/api', companyId: 'msp', publicKey: 'pub', clientId: 'client' },
      secret: 'matrix-secret',
    }),
    allowed: mspAdmin,
  },
  {
    endpoint: 'get integration',
    method: 'GET',
    path: () => '/integrations/integration-none',
    allowed: mspAdmin,
  },
  {
    endpoint: 'update integration',
    method: 'PATCH',
    path: () => '/integrations/integration-none',
    body: () => ({ name: 'renamed' }),
    allowed: mspAdmin,
  },
  {
    endpoint: 'delete integration',
    method: 'DELETE',
    path: () => '/integrations/integration-none',
    allowed: mspAdmin,
  },
  {
    endpoint: 'test integration',
    method: 'POST',
    path: () => '/integrations/integration-none/test',
    allowed: mspAdmin,
  },
  {
    endpoint: 'sync integration',
    method: 'POST',
    path: () => '/integrations/integration-none/sync',
    allowed: mspAdmin,
  },
  {
    endpoint: 'list PSA companies',
    method: 'GET',
    path: () => '/integrations/integration-none/companies',
    allowed: mspAdmin,
  },
  {
    endpoint: 'map PSA company',
    method: 'PUT',
    path: () => '/integrations/integration-none/companies/1',
    body: () => ({ tenantId: 'tenant-contoso' }),
    allowed: mspAdmin,
  },
  { endpoint: 'list audit entries', method: 'GET', path: () => '/audit', allowed: admins },
];

describe('the role x endpoint matrix', () => {
  it.each(matrix)('$method $endpoint is refused (403) to exactly the roles not allowed', async (row) => {
    for (const role of roles) {
      const { status, text } = await api.call(role, row.method, row.path(), row.body?.());
      const allowed = row.allowed.includes(role);
      expect({
        role,
        allowed,
        status: allowed ? status !== 403 && status < 500 : status === 403,
        text,
      }).toMatchObject({
        role,
        allowed,
        status: true,
      });
    }
  });

  it('keeps tenant users inside their tenant: other tenants are absent or refused', async () => {
    for (const role of ['tenant-admin', 'tenant-non-admin'] as const) {
      expect((await api.call(role, 'GET', '/tenants/tenant-fabrikam')).status).toBe(404);
      expect((await api.call(role, 'GET', `/people/${fabrikamPerson}`)).status).toBe(404);
      const people = (await api.call(role, 'GET', '/people?tenantId=tenant-fabrikam')).body as {
        items: Item[];
      };
      expect(people.items).toEqual([]);
      const tenants = (await api.call(role, 'GET', '/tenants')).body as { items: Item[] };
      expect(tenants.items.map((tenant) => tenant.id)).toEqual(['tenant-contoso']);
    }
    const foreign = { tenantId: 'tenant-fabrikam', displayName: 'Intruder' };
    expect((await api.call('tenant-admin', 'POST', '/people', foreign)).status).toBe(403);
    expect(
      (await api.call('tenant-admin', 'PATCH', `/people/${fabrikamPerson}`, { tags: ['x'] })).status,
    ).toBe(404);
    const msp = (await api.call('msp-non-admin', 'GET', `/people/${fabrikamPerson}`)).status;
    expect(msp).toBe(200);
  });

  it('refuses bad input with a problem and writes nothing', async () => {
    const before = (await api.call('msp-admin', 'GET', '/tenants?limit=200')).body as { items: Item[] };
    const bad = await api.call('msp-admin', 'POST', '/tenants', { name: '', color: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('validation');
    const after = (await api.call('msp-admin', 'GET', '/tenants?limit=200')).body as { items: Item[] };
    expect(after.items.length).toBe(before.items.length);
  });
});

describe('users, access requests and expiry', () => {
  let userId: string;

  it('an expired user gets 403 within seconds, asks again, and an approval gives access back', async () => {
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    userId = await inviteAndRedeem(api, 'tenant-admin', 'tenant-non-admin', {
      personId: contosoPerson,
      role: 'tenant-non-admin',
      expiresAt,
    });
    expect((await api.call('tenant-non-admin', 'GET', '/people')).status).toBe(200);

    const expiredAt = await waitFor(
      async () =>
        (await api.call('tenant-non-admin', 'GET', '/people')).status === 403 ? Date.now() : undefined,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(expiredAt! - Date.parse(expiresAt)).toBeLessThan(3_000);

    const request = await api.call('tenant-non-admin', 'POST', '/access-requests', {
      message: 'expired, please renew',
    });
    expect(request.status).toBe(201);
    const requestId = (request.body as Item).id;
    const pending = (await api.call('tenant-admin', 'GET', '/access-requests?status=pending')).body as {
      items: Item[];
    };
    expect(pending.items.map((item) => item.id)).toContain(requestId);
    // A tenant admin of another tenant would not see it; MSP non-admins manage no users.
    expect(
      (
        await api.call('msp-non-admin', 'POST', `/access-requests/${requestId}/approve`, {
          role: 'tenant-admin',
        })
      ).status,
    ).toBe(403);

    const approved = await api.call('tenant-admin', 'POST', `/access-requests/${requestId}/approve`, {
      role: 'tenant-admin',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', userId, role: 'tenant-admin' });
    // The new role applies at once: a tenant admin may list users, which a tenant non-admin may not.
    expect((await api.call('tenant-non-admin', 'GET', '/users')).status).toBe(200);
    expect((await api.call('tenant-admin', 'POST', `/access-requests/${requestId}/deny`)).status).toBe(409);
  });

  it('a denied request grants nothing', async () => {
    const request = await api.call('msp-non-admin', 'POST', '/access-requests', { tenantId: 'tenant-msp' });
    const requestId = (request.body as Item).id;
    const denied = await api.call('msp-admin', 'POST', `/access-requests/${requestId}/deny`);
    expect(denied.body).toMatchObject({ status: 'denied', decidedBy: 'msp-admin' });
    expect((await api.call('msp-non-admin', 'GET', '/users')).status).toBe(403);
  });

  it('refuses an MSP role for a person of a customer tenant', async () => {
    const response = await api.call('msp-admin', 'PATCH', `/users/${userId}`, { role: 'msp-admin' });
    expect(response.status).toBe(400);
  });

  it('audits role changes with the values before and after', async () => {
    const audit = await api.call('msp-admin', 'GET', `/audit?entityType=user&entityId=${userId}`);
    const entries = (
      audit.body as {
        items: { action: string; before: { role?: string } | null; after: { role?: string } | null }[];
      }
    ).items;
    expect(entries.map((entry) => entry.action)).toEqual(['updated', 'bound', 'created']);
    expect(entries[0]).toMatchObject({
      before: { role: 'tenant-non-admin' },
      after: { role: 'tenant-admin' },
    });
  });

  it("lets an MSP admin act as a user, within that user's access, and audits who impersonated", async () => {
    const asUser = { 'x-converge-impersonate': userId };
    const fabrikam = await api.call(
      'msp-admin',
      'GET',
      '/people?tenantId=tenant-fabrikam',
      undefined,
      asUser,
    );
    expect(fabrikam.status).toBe(200);
    expect((fabrikam.body as { items: Item[] }).items).toEqual([]);
    expect(
      (await api.call('msp-admin', 'POST', '/tenants', { name: 'Not as this user' }, asUser)).status,
    ).toBe(403);
    expect((await api.call('msp-non-admin', 'GET', '/people', undefined, asUser)).status).toBe(403);

    const audit = await api.call('msp-admin', 'GET', '/audit?entityType=request&impersonatedBy=msp-admin');
    const entries = (audit.body as { items: { entityId: string; actor: unknown }[] }).items;
    expect(entries.map((entry) => entry.entityId)).toEqual(
      expect.arrayContaining(['GET /api/v1/people', 'POST /api/v1/tenants']),
    );
    expect(entries[0]?.actor).toEqual({ subject: 'tenant-non-admin', impersonatedBy: 'msp-admin' });
  });

  it('removing a user takes the access away, whatever the token says', async () => {
    expect((await api.call('msp-admin', 'DELETE', `/users/${userId}`)).status).toBe(204);
    expect((await api.call('tenant-non-admin', 'GET', '/people')).status).toBe(403);
  });
});
