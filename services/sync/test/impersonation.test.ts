import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { impersonationHeader } from '@converge/access';
import { getAccessToken, type ServiceProcess } from '@converge/testing';
import { inviteAndRedeem, startSyncService, type Api } from './fixtures/sync-service.ts';

// Issue 12, item 8: only a person who is an MSP admin may act as another user. An application (a partner
// integration on client credentials) holds the msp-admin app role too, but no person stands behind it.

let service: ServiceProcess;
let api: Api;
let partnerToken: string;
let userId: string;

interface Problem {
  status: number;
  title: string;
  detail: string;
}

async function asPartner(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${service.baseUrl}/api/v1${path}`, {
    headers: { authorization: `Bearer ${partnerToken}`, ...headers },
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

beforeAll(async () => {
  ({ service, api } = await startSyncService());
  partnerToken = await getAccessToken('partner');
  for (const [id, name, isMsp] of [
    ['tenant-msp', 'Northwind MSP', true],
    ['tenant-contoso', 'Contoso', false],
  ] as const) {
    expect((await api.call('msp-admin', 'POST', '/tenants', { id, name, isMsp })).status).toBe(201);
  }
  const person = await api.call('msp-admin', 'POST', '/people', {
    tenantId: 'tenant-contoso',
    displayName: 'Robin Contoso User',
  });
  userId = await inviteAndRedeem(api, 'msp-admin', 'tenant-non-admin', {
    personId: (person.body as { id: string }).id,
    role: 'tenant-non-admin',
  });
});

afterAll(async () => {
  await service.stop();
});

describe('impersonation', () => {
  it('refuses an application token with a 403 problem, though it may call the API in its own name', async () => {
    expect((await asPartner('/people')).status).toBe(200);
    const refused = await asPartner('/people', { [impersonationHeader]: userId });
    expect(refused.status).toBe(403);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.body as Problem).toMatchObject({
      status: 403,
      detail: expect.stringContaining('application'),
    });

    // Nothing was audited as impersonated by the application: the request never ran.
    const audit = await api.call(
      'msp-admin',
      'GET',
      '/audit?entityType=request&impersonatedBy=converge-partner-test',
    );
    expect((audit.body as { items: unknown[] }).items).toEqual([]);
  });

  it("lets a human MSP admin act as the user, within that user's access", async () => {
    const asUser = { [impersonationHeader]: userId };
    const people = await api.call('msp-admin', 'GET', '/people', undefined, asUser);
    expect(people.status).toBe(200);
    expect((await api.call('msp-admin', 'GET', '/users', undefined, asUser)).status).toBe(403);
  });

  it('refuses tenant admins and MSP non-admins as before', async () => {
    for (const role of ['tenant-admin', 'msp-non-admin', 'tenant-non-admin'] as const) {
      const response = await api.call(role, 'GET', '/people', undefined, { [impersonationHeader]: userId });
      expect({ role, status: response.status }).toEqual({ role, status: 403 });
      expect(response.body as Problem).toMatchObject({ status: 403 });
    }
  });
});
