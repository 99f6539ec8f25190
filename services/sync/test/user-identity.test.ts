import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { effectiveAccessStore } from '@converge/access';
import { devClients } from '@converge/dev-oidc';
import { getAccessToken, stack, type ServiceProcess } from '@converge/testing';
import { inviteAndRedeem, startSyncService, type Api } from './fixtures/sync-service.ts';

// Issue 12, item 3: a user is bound to a verified sign-in identity (issuer and subject), learned from that
// person's own sign-in, never typed in by an admin; an application's token is never overridden; and nobody
// grants more than their own rights or acts outside their tenant.

let service: ServiceProcess;
let api: Api;
let prefix: string;
let partnerToken: string;
const people: Record<'msp' | 'contoso' | 'fabrikam', string> = { msp: '', contoso: '', fabrikam: '' };

interface Item {
  id: string;
  [key: string]: unknown;
}

async function asPartner(method: string, path: string, body?: unknown) {
  const response = await fetch(`${service.baseUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${partnerToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

/** The MSP admin's full rights, each checked: creating a tenant and reading integrations are MSP-admin only. */
async function expectFullMspAdmin(): Promise<void> {
  expect((await api.call('msp-admin', 'GET', '/integrations')).status).toBe(200);
  expect((await api.call('msp-admin', 'GET', '/people?tenantId=tenant-fabrikam')).body).toMatchObject({
    items: [{ id: people.fabrikam }],
  });
}

beforeAll(async () => {
  ({ service, api, prefix } = await startSyncService());
  partnerToken = await getAccessToken('partner');
  for (const [key, id, name, isMsp] of [
    ['msp', 'tenant-msp', 'Northwind MSP', true],
    ['contoso', 'tenant-contoso', 'Contoso', false],
    ['fabrikam', 'tenant-fabrikam', 'Fabrikam', false],
  ] as const) {
    expect((await api.call('msp-admin', 'POST', '/tenants', { id, name, isMsp })).status).toBe(201);
    const person = await api.call('msp-admin', 'POST', '/people', {
      tenantId: id,
      displayName: `${name} person`,
    });
    people[key] = (person.body as Item).id;
  }
});

afterAll(async () => {
  await service.stop();
});

describe('users bound to a verified sign-in identity', () => {
  it("creating a user with another person's sign-in subject leaves that person's access as it was", async () => {
    // An MSP technician has no user record: the identity provider's app role is their access.
    const hijack = await api.call('tenant-admin', 'POST', '/users', {
      personId: people.contoso,
      subject: 'msp-non-admin',
      role: 'tenant-non-admin',
    });
    expect(hijack.status).toBe(400);
    const invitation = await api.call('tenant-admin', 'POST', '/users', {
      personId: people.contoso,
      role: 'tenant-non-admin',
    });
    expect(invitation.body).toMatchObject({ identity: null, invitationCode: expect.any(String) });

    const fabrikam = await api.call('msp-non-admin', 'GET', '/people?tenantId=tenant-fabrikam');
    expect(fabrikam.body).toMatchObject({ items: [{ id: people.fabrikam }] });
  });

  it('an MSP admin without a record cannot be demoted or locked out by a tenant admin', async () => {
    const created = await api.call('tenant-admin', 'POST', '/users', {
      personId: people.contoso,
      subject: 'msp-admin',
      role: 'tenant-non-admin',
    });
    if (created.status === 201) {
      await api.call('tenant-admin', 'DELETE', `/users/${(created.body as Item).id}`);
    }
    await expectFullMspAdmin();

    // Nor by talking the MSP admin into redeeming a customer's invitation or asking to join a customer tenant.
    const invited = await api.call('tenant-admin', 'POST', '/users', {
      personId: people.contoso,
      role: 'tenant-non-admin',
    });
    const { invitationCode } = invited.body as { invitationCode: string };
    expect(
      (await api.call('msp-admin', 'POST', '/invitations/redeem', { code: invitationCode })).status,
    ).toBe(403);
    expect(
      (await api.call('msp-admin', 'POST', '/access-requests', { tenantId: 'tenant-contoso' })).status,
    ).toBe(403);
    await expectFullMspAdmin();
  });

  it('a client-credentials token is never overridden by a user record', async () => {
    const partner = devClients.partner.clientId;
    const created = await api.call('msp-admin', 'POST', '/users', {
      personId: people.msp,
      subject: partner,
      role: 'msp-non-admin',
    });
    expect(created.status).toBe(400);
    // An application can neither ask for access nor redeem an invitation: users are people.
    const invited = await api.call('msp-admin', 'POST', '/users', {
      personId: people.msp,
      role: 'msp-non-admin',
    });
    const { invitationCode } = invited.body as { invitationCode: string };
    expect((await asPartner('POST', '/invitations/redeem', { code: invitationCode })).status).toBe(403);
    expect((await asPartner('POST', '/access-requests', { tenantId: 'tenant-msp' })).status).toBe(403);

    // Even a record naming the client's identity (written behind the API's back) does not apply to it.
    const redis = new Redis(stack.redisUrl);
    try {
      await effectiveAccessStore(redis, `${prefix}:access:`).write({
        userId: 'user-forged',
        issuer: stack.oidcIssuer,
        subject: partner,
        roles: [],
        tenantId: 'tenant-contoso',
        expiresAt: null,
      });
    } finally {
      redis.disconnect();
    }
    expect((await asPartner('GET', '/integrations')).status).toBe(200);
  });

  it('a tenant admin cannot create a user in another tenant, an MSP user, or more than a tenant admin', async () => {
    for (const personId of [people.fabrikam, people.msp]) {
      const response = await api.call('tenant-admin', 'POST', '/users', {
        personId,
        role: 'tenant-non-admin',
      });
      expect({ personId, status: response.status }).toEqual({ personId, status: 404 });
    }
    for (const role of ['msp-admin', 'msp-non-admin'] as const) {
      const response = await api.call('tenant-admin', 'POST', '/users', { personId: people.contoso, role });
      expect({ role, status: response.status }).toEqual({ role, status: 400 });
    }
    // Nor make an MSP admin's identity a user of its tenant (the one way around the above on main).
    await api.call('tenant-admin', 'POST', '/users', {
      personId: people.contoso,
      subject: 'msp-admin',
      role: 'tenant-admin',
    });
    await expectFullMspAdmin();

    // Another tenant's users and access requests are out of reach.
    const fabrikamUser = await api.call('msp-admin', 'POST', '/users', {
      personId: people.fabrikam,
      role: 'tenant-admin',
    });
    const fabrikamUserId = (fabrikamUser.body as Item).id;
    expect(
      (await api.call('tenant-admin', 'PATCH', `/users/${fabrikamUserId}`, { role: 'tenant-non-admin' }))
        .status,
    ).toBe(404);
    expect((await api.call('tenant-admin', 'DELETE', `/users/${fabrikamUserId}`)).status).toBe(404);
    expect((await api.call('msp-admin', 'GET', `/users/${fabrikamUserId}`)).body).toMatchObject({
      role: 'tenant-admin',
      removedAt: null,
    });
  });
});

describe('invitations', () => {
  it('grant nothing until redeemed, bind the redeeming identity once, and never show the code again', async () => {
    const invited = await api.call('tenant-admin', 'POST', '/users', {
      personId: people.contoso,
      role: 'tenant-admin',
    });
    expect(invited.status).toBe(201);
    const { id, invitationCode } = invited.body as { id: string; invitationCode: string };
    expect((await api.call('tenant-non-admin', 'GET', '/users')).status).toBe(403);

    const redeemed = await api.call('tenant-non-admin', 'POST', '/invitations/redeem', {
      code: invitationCode,
    });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body).toMatchObject({
      id,
      identity: { issuer: stack.oidcIssuer, subject: 'tenant-non-admin' },
      invitationExpiresAt: null,
    });
    expect((await api.call('tenant-non-admin', 'GET', '/users')).status).toBe(200);

    // The code worked once; the user as listed shows neither the code nor its hash.
    expect(
      (await api.call('tenant-admin', 'POST', '/invitations/redeem', { code: invitationCode })).status,
    ).toBe(404);
    const listed = await api.call('tenant-admin', 'GET', `/users/${id}`);
    expect(listed.text).not.toMatch(/invitationCode/);
  });

  it('an identity is a user of one tenant at most', async () => {
    // tenant-non-admin was bound above; another invitation cannot bind it a second time.
    const second = await inviteAndRedeem(api, 'msp-admin', 'tenant-non-admin', {
      personId: people.fabrikam,
      role: 'tenant-non-admin',
    }).catch((error: unknown) => String(error));
    expect(second).toContain('409');
  });

  it('a tenant admin cannot raise a user above its own rights through an access request', async () => {
    const request = await api.call('tenant-admin', 'POST', '/access-requests', {
      tenantId: 'tenant-contoso',
    });
    expect(request.status).toBe(201);
    const requestId = (request.body as Item).id;
    const approve = (role: string) =>
      api.call('tenant-admin', 'POST', `/access-requests/${requestId}/approve`, { role });
    expect((await approve('msp-admin')).status).toBe(400);
    expect((await approve('tenant-admin')).status).toBe(200);
  });
});
