import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueId, waitFor } from '@converge/testing';
import {
  computerChanged,
  computerSnapshot,
  powershellScript,
  softwareBody,
  startDeployments,
  type Api,
  type DeploymentsUnderTest,
} from './deployments-service.ts';

interface Item {
  id: string;
  version: number;
  tenantId: string | null;
  [field: string]: unknown;
}

let deployments: DeploymentsUnderTest;
let mspAdmin: Api;
let mspNonAdmin: Api;
let tenantAdmin: Api;
let tenantNonAdmin: Api;
let scriptId: string;
const contosoComputer = uniqueId('computer-contoso');

async function created(response: Response): Promise<Item> {
  if (response.status !== 201)
    throw new Error(`expected 201, got ${response.status}: ${await response.text()}`);
  return (await response.json()) as Item;
}

beforeAll(async () => {
  deployments = await startDeployments();
  [mspAdmin, mspNonAdmin, tenantAdmin, tenantNonAdmin] = await Promise.all([
    deployments.as('msp-admin'),
    deployments.as('msp-non-admin'),
    deployments.as('tenant-admin'),
    deployments.as('tenant-non-admin'),
  ]);
  scriptId = (await created(await mspAdmin.post('/scripts', { name: 'Detect', ...powershellScript }))).id;
  await deployments.bus.publish(
    computerChanged,
    computerSnapshot({ computerId: contosoComputer, tenantId: 'tenant-contoso' }),
  );
});

afterAll(async () => {
  await deployments.stop();
});

describe('the catalog', () => {
  it('keeps a script’s previous bodies as its change history and refuses a change made against an old version', async () => {
    const script = await created(await mspAdmin.post('/scripts', { name: 'Install', ...powershellScript }));
    expect(script).toMatchObject({ tenantId: null, version: 1, history: [] });
    const changed = await mspAdmin.put(`/scripts/${script.id}`, {
      ...powershellScript,
      name: 'Install',
      body: 'Start-Process msiexec',
      version: 1,
    });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({
      version: 2,
      body: 'Start-Process msiexec',
      history: [{ version: 1, body: powershellScript.body }],
    });
    const stale = await mspAdmin.put(`/scripts/${script.id}`, { ...powershellScript, name: 'X', version: 1 });
    expect(stale.status).toBe(409);
    expect((await mspAdmin.delete(`/scripts/${script.id}?version=2`)).status).toBe(204);
    expect((await mspAdmin.get(`/scripts/${script.id}`)).status).toBe(404);
  });

  it('rejects an invalid item with a problem and writes nothing', async () => {
    const before = (await (await mspAdmin.get('/software?limit=200')).json()) as { items: Item[] };
    const response = await mspAdmin.post('/software', { name: '', detectionScriptId: scriptId });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const unknownScript = await mspAdmin.post('/software', softwareBody('Ghost', 'no-such-script'));
    expect(unknownScript.status).toBe(400);
    const after = (await (await mspAdmin.get('/software?limit=200')).json()) as { items: Item[] };
    expect(after.items).toHaveLength(before.items.length);
  });

  it("shows a tenant's own software only to that tenant and the MSP, and global software to everyone", async () => {
    const global = await created(await mspAdmin.post('/software', softwareBody('7-Zip', scriptId)));
    const fabrikam = await created(
      await mspAdmin.post('/software', {
        ...softwareBody('Fabrikam ERP', scriptId),
        tenantId: 'tenant-fabrikam',
      }),
    );
    const contoso = await created(await tenantAdmin.post('/software', softwareBody('Contoso CRM', scriptId)));
    expect(contoso.tenantId).toBe('tenant-contoso');

    const seenByTenant = (await (await tenantAdmin.get('/software?limit=200')).json()) as { items: Item[] };
    const tenantIds = seenByTenant.items.map((item) => item.id);
    expect(tenantIds).toEqual(expect.arrayContaining([global.id, contoso.id]));
    expect(tenantIds).not.toContain(fabrikam.id);
    expect((await tenantNonAdmin.get(`/software/${fabrikam.id}`)).status).toBe(404);

    const seenByMsp = (await (await mspNonAdmin.get('/software?limit=200')).json()) as { items: Item[] };
    expect(seenByMsp.items.map((item) => item.id)).toEqual(
      expect.arrayContaining([global.id, fabrikam.id, contoso.id]),
    );

    // Tenant users manage only their own tenant's items; non-admins no catalog at all.
    expect(
      (await tenantAdmin.post('/software', { ...softwareBody('X', scriptId), tenantId: null })).status,
    ).toBe(403);
    expect(
      (await tenantAdmin.post('/software', { ...softwareBody('X', scriptId), tenantId: 'tenant-fabrikam' }))
        .status,
    ).toBe(403);
    expect(
      (await tenantAdmin.put(`/software/${global.id}`, { ...softwareBody('7-Zip', scriptId), version: 1 }))
        .status,
    ).toBe(403);
    expect((await tenantNonAdmin.post('/software', softwareBody('X', scriptId))).status).toBe(403);
  });

  it('rejects prerequisites that form a cycle, naming the cycle', async () => {
    const runtime = await created(await mspAdmin.post('/software', softwareBody('Runtime', scriptId)));
    const needsRuntime = (name: string, id: string) => ({
      prerequisites: [
        {
          condition: { when: 'not-installed', match: 'any-of', softwareIds: [id] },
          action: { kind: 'install', softwareIds: [id] },
        },
      ],
      name,
    });
    const app = await created(
      await mspAdmin.post('/software', softwareBody('App', scriptId, needsRuntime('App', runtime.id))),
    );
    const cycle = await mspAdmin.put(`/software/${runtime.id}`, {
      ...softwareBody('Runtime', scriptId, needsRuntime('Runtime', app.id)),
      version: 1,
    });
    expect(cycle.status).toBe(400);
    const problem = (await cycle.json()) as { detail: string };
    expect(problem.detail).toContain('cycle');
    expect(problem.detail).toContain(`Runtime (${runtime.id})`);
    expect(problem.detail).toContain(`App (${app.id})`);
  });
});

describe('deployments', () => {
  let softwareId: string;

  beforeAll(async () => {
    softwareId = (await created(await mspAdmin.post('/software', softwareBody('Reader', scriptId)))).id;
    // Individual deployments name a computer the projection knows.
    const mspAdminApi = mspAdmin;
    await waitFor(
      async () => (await mspAdminApi.get(`/computers/${contosoComputer}/resolution`)).status === 200,
      {
        timeoutMs: 20_000,
      },
    );
  });

  const deployment = (target: Record<string, unknown>) => ({
    maintenanceItem: { kind: 'software', id: softwareId },
    target,
    desiredState: { state: 'installed-latest' },
    enforcement: 'required',
  });

  it('lets only MSP admins create cross-tenant deployments', async () => {
    expect((await mspNonAdmin.post('/deployments', deployment({ kind: 'all-computers' }))).status).toBe(403);
    expect((await tenantAdmin.post('/deployments', deployment({ kind: 'all-computers' }))).status).toBe(403);
    const crossTenant = await created(
      await mspAdmin.post('/deployments', deployment({ kind: 'all-computers' })),
    );
    expect(crossTenant).toMatchObject({ tenantId: null, scope: 'cross-tenant', enabled: true, priority: 0 });
    // A tenant user does not even see it.
    expect((await tenantAdmin.get(`/deployments/${crossTenant.id}`)).status).toBe(404);
  });

  it('lets tenant non-admins create only individual deployments in their own tenant', async () => {
    const tenantTarget = { kind: 'tenant', tenantId: 'tenant-contoso' };
    expect((await tenantNonAdmin.post('/deployments', deployment(tenantTarget))).status).toBe(403);
    const individual = await created(
      await tenantNonAdmin.post(
        '/deployments',
        deployment({ kind: 'computer', computerId: contosoComputer }),
      ),
    );
    expect(individual).toMatchObject({ tenantId: 'tenant-contoso', scope: 'individual' });
    expect(await created(await tenantAdmin.post('/deployments', deployment(tenantTarget)))).toMatchObject({
      scope: 'single-tenant',
    });
    expect(
      (await tenantAdmin.post('/deployments', deployment({ kind: 'tenant', tenantId: 'tenant-fabrikam' })))
        .status,
    ).toBe(403);
    expect((await mspNonAdmin.post('/deployments', deployment(tenantTarget))).status).toBe(201);
  });

  it('checks the desired state against the item and pinned versions against its versions', async () => {
    const pinned = { ...deployment({ kind: 'tenant', tenantId: 'tenant-contoso' }) };
    const unknownVersion = await mspAdmin.post('/deployments', {
      ...pinned,
      desiredState: { state: 'installed-version', version: '9.9' },
    });
    expect(unknownVersion.status).toBe(400);
    const taskState = await mspAdmin.post('/deployments', { ...pinned, desiredState: { state: 'enforced' } });
    expect(taskState.status).toBe(400);
    const known = await mspAdmin.post('/deployments', {
      ...pinned,
      desiredState: { state: 'installed-version', version: '2.0.0' },
    });
    expect(known.status).toBe(201);
  });

  it('validates parameter values against the task and never returns or logs secret values', async () => {
    const secret = `hunter2-${uniqueId('secret')}`;
    const defaultSecret = `default-${uniqueId('secret')}`;
    const task = await created(
      await mspAdmin.post('/maintenance-tasks', {
        name: 'Configure backup agent',
        targetCategory: 'computer',
        combinedScriptId: scriptId,
        parameters: [
          { name: 'RetentionDays', type: 'number', required: true, min: 1, max: 365 },
          { name: 'ApiKey', type: 'secret', required: true, defaultValue: defaultSecret },
          { name: 'Mode', type: 'select', options: ['full', 'incremental'], defaultValue: 'full' },
        ],
      }),
    );
    expect(JSON.stringify(task)).not.toContain(defaultSecret);
    const body = {
      maintenanceItem: { kind: 'maintenance-task', id: task.id },
      target: { kind: 'tenant', tenantId: 'tenant-contoso' },
      desiredState: { state: 'enforced' },
      enforcement: 'required',
    };
    const tooLong = await mspAdmin.post('/deployments', { ...body, parameterValues: { RetentionDays: 400 } });
    expect(tooLong.status).toBe(400);
    const unknown = await mspAdmin.post('/deployments', {
      ...body,
      parameterValues: { RetentionDays: 7, Nope: 1 },
    });
    expect(unknown.status).toBe(400);
    expect((await mspAdmin.post('/deployments', { ...body, parameterValues: {} })).status).toBe(400);

    const withSecret = await created(
      await mspAdmin.post('/deployments', {
        ...body,
        parameterValues: { RetentionDays: 30, ApiKey: secret },
      }),
    );
    expect(withSecret).toMatchObject({
      parameterValues: { RetentionDays: 30 },
      secretParameters: ['ApiKey'],
    });
    // Changing something else keeps the secret the client cannot read back.
    const changed = await mspAdmin.put(`/deployments/${withSecret.id}`, {
      ...body,
      parameterValues: { RetentionDays: 60 },
      version: 1,
    });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({
      parameterValues: { RetentionDays: 60 },
      secretParameters: ['ApiKey'],
    });

    const read = await (await mspAdmin.get(`/deployments/${withSecret.id}`)).text();
    const listed = await (await mspAdmin.get(`/deployments?maintenanceItemId=${task.id}`)).text();
    for (const text of [read, listed, JSON.stringify(deployments.service.logs)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(defaultSecret);
    }
  });
});
