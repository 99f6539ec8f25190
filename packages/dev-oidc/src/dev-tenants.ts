import { devClients, devTenants } from './dev-accounts.ts';

async function partnerToken(issuer: string): Promise<string> {
  const { clientId, clientSecret } = devClients.partner;
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
    signal: AbortSignal.timeout(5000),
  });
  const answer = (await response.json()) as { access_token?: unknown };
  if (!response.ok || typeof answer.access_token !== 'string') {
    throw new Error(`the partner client got no token from ${issuer} (${response.status})`);
  }
  return answer.access_token;
}

/**
 * Creates the development tenants (`devTenants`) that the directory does not hold yet, through the sync
 * service's API as the partner client (an MSP admin), so that sync stays the only writer of tenants. Safe to
 * run on every start and at the same time as another run: a tenant that exists is left as it is. Returns the
 * ids it created.
 */
export async function seedDevTenants(opts: { issuer: string; syncUrl: string }): Promise<string[]> {
  const headers = { authorization: `Bearer ${await partnerToken(opts.issuer)}` };
  const tenantUrl = (id: string) => `${opts.syncUrl}/api/v1/tenants/${encodeURIComponent(id)}`;
  const exists = async (id: string) => {
    const response = await fetch(tenantUrl(id), { headers, signal: AbortSignal.timeout(5000) });
    if (response.status !== 200 && response.status !== 404) {
      throw new Error(`reading tenant ${id} answered ${response.status}: ${await response.text()}`);
    }
    return response.status === 200;
  };
  const created: string[] = [];
  for (const tenant of devTenants) {
    if (await exists(tenant.id)) continue;
    const response = await fetch(`${opts.syncUrl}/api/v1/tenants`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(tenant),
      signal: AbortSignal.timeout(5000),
    });
    if (response.status === 201) {
      created.push(tenant.id);
      continue;
    }
    // 409: created by a run at the same moment, or its name's slug belongs to another tenant.
    if (response.status !== 409 || !(await exists(tenant.id))) {
      throw new Error(`creating tenant ${tenant.id} answered ${response.status}: ${await response.text()}`);
    }
  }
  return created;
}
