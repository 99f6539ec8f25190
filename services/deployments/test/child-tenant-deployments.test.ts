import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueId, waitFor } from '@converge/testing';
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

// Issue 12, item 6: a deployment to a tenant "and its child tenants" reaches every tenant below it, so it
// needs rights over that whole subtree, including child tenants added later. A tenant admin's rights end at
// their own tenant; before this was checked, the parent's admin could run the parent's own scripts as System
// on its child tenants' computers.

interface Item {
  id: string;
  version: number;
  [field: string]: unknown;
}

interface Problem {
  status: number;
  detail: string;
}

let deployments: DeploymentsUnderTest;
let mspAdmin: Api;
let mspNonAdmin: Api;
let tenantAdmin: Api;
const parent = 'tenant-contoso';
const child = uniqueId('tenant-contoso-east');
const childComputer = uniqueId('computer-east');
let contosoTaskId: string;
let globalSoftwareId: string;

async function created(response: Response): Promise<Item> {
  if (response.status !== 201)
    throw new Error(`expected 201, got ${response.status}: ${await response.text()}`);
  return (await response.json()) as Item;
}

async function expectProblem(response: Response, status: number): Promise<Problem> {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  return JSON.parse(text) as Problem;
}

const tenantTarget = (includeChildTenants: boolean) => ({
  kind: 'tenant',
  tenantId: parent,
  includeChildTenants,
});

const taskDeployment = (includeChildTenants: boolean) => ({
  maintenanceItem: { kind: 'maintenance-task', id: contosoTaskId },
  target: tenantTarget(includeChildTenants),
  desiredState: { state: 'enforced' },
  enforcement: 'required',
});

const softwareDeployment = (includeChildTenants: boolean) => ({
  maintenanceItem: { kind: 'software', id: globalSoftwareId },
  target: tenantTarget(includeChildTenants),
  desiredState: { state: 'installed-latest' },
  enforcement: 'required',
});

/** The maintenance items the child tenant's computer would get in a full session. */
async function planOfChildComputer(): Promise<string[]> {
  const response = await mspAdmin.get(`/computers/${childComputer}/resolution?sessionKind=full`);
  expect(response.status).toBe(200);
  const resolution = (await response.json()) as { plan: { maintenanceItem: { id: string } }[] };
  return resolution.plan.map((item) => item.maintenanceItem.id);
}

beforeAll(async () => {
  deployments = await startDeployments();
  [mspAdmin, mspNonAdmin, tenantAdmin] = await Promise.all([
    deployments.as('msp-admin'),
    deployments.as('msp-non-admin'),
    deployments.as('tenant-admin'),
  ]);
  await deployments.bus.publish(tenantUpserted, tenantSnapshot({ tenantId: parent }));
  await deployments.bus.publish(
    computerChanged,
    computerSnapshot({ computerId: childComputer, tenantId: child }),
  );

  // The parent tenant's own script and task, as its admin writes them: they run as System.
  const script = await created(await tenantAdmin.post('/scripts', { name: 'Anything', ...powershellScript }));
  expect(script.tenantId).toBe(parent);
  const task = await created(
    await tenantAdmin.post('/maintenance-tasks', {
      name: 'Contoso baseline',
      targetCategory: 'computer',
      combinedScriptId: script.id,
      parameters: [],
    }),
  );
  contosoTaskId = task.id;
  const globalScript = await created(
    await mspAdmin.post('/scripts', { name: 'Detect', ...powershellScript }),
  );
  globalSoftwareId = (
    await created(await mspAdmin.post('/software', softwareBody('Reader', globalScript.id)))
  ).id;

  await waitFor(async () => (await mspAdmin.get(`/computers/${childComputer}/resolution`)).status === 200, {
    timeoutMs: 20_000,
  });
});

afterAll(async () => {
  await deployments.stop();
});

describe('a deployment including child tenants, while the tenant has none yet', () => {
  it('is refused to the tenant admin: a child tenant added later would be reached unchecked', async () => {
    await expectProblem(await tenantAdmin.post('/deployments', softwareDeployment(true)), 403);
  });
});

describe('deployments that include child tenants', () => {
  beforeAll(async () => {
    await deployments.bus.publish(
      tenantUpserted,
      tenantSnapshot({ tenantId: child, parentTenantId: parent }),
    );
  });

  it("refuses a tenant admin's deployment to its tenant and child tenants, so its task never reaches them", async () => {
    const refused = await expectProblem(await tenantAdmin.post('/deployments', taskDeployment(true)), 403);
    expect(refused.detail).toContain('child tenants');
    expect(await planOfChildComputer()).not.toContain(contosoTaskId);

    // Its own tenant alone stays the tenant admin's to manage.
    expect(await created(await tenantAdmin.post('/deployments', taskDeployment(false)))).toMatchObject({
      tenantId: parent,
      scope: 'single-tenant',
    });
  });

  it("refuses a tenant admin's change that would widen its deployment to the child tenants", async () => {
    const own = await created(await tenantAdmin.post('/deployments', taskDeployment(false)));
    await expectProblem(
      await tenantAdmin.put(`/deployments/${own.id}`, { ...taskDeployment(true), version: own.version }),
      403,
    );
    expect(await planOfChildComputer()).not.toContain(contosoTaskId);
  });

  it("leaves an MSP's deployment over the subtree to users with rights over every tenant in it", async () => {
    const byMsp = await created(await mspAdmin.post('/deployments', softwareDeployment(true)));
    expect(byMsp).toMatchObject({ tenantId: parent, scope: 'single-tenant' });
    await waitFor(async () => (await planOfChildComputer()).includes(globalSoftwareId), {
      timeoutMs: 10_000,
    });

    // The parent's admin may neither repoint it at the parent's own task nor change or delete it.
    await expectProblem(
      await tenantAdmin.put(`/deployments/${byMsp.id}`, { ...taskDeployment(true), version: byMsp.version }),
      403,
    );
    await expectProblem(
      await tenantAdmin.put(`/deployments/${byMsp.id}`, {
        ...softwareDeployment(false),
        version: byMsp.version,
      }),
      403,
    );
    await expectProblem(await tenantAdmin.delete(`/deployments/${byMsp.id}?version=${byMsp.version}`), 403);
    expect(await planOfChildComputer()).not.toContain(contosoTaskId);

    // MSP non-admins act in every tenant, so a tenant deployment with child tenants is theirs to manage too.
    expect((await mspNonAdmin.post('/deployments', softwareDeployment(true))).status).toBe(201);
  });

  it("refuses a tenant's own item on a deployment that reaches its child tenants, even from an MSP admin", async () => {
    // The parent's admin can change that item's script at any time; it must not run on the children.
    const refused = await expectProblem(await mspAdmin.post('/deployments', taskDeployment(true)), 400);
    expect(JSON.stringify(refused)).toContain('/body/maintenanceItem/id');
    expect(await planOfChildComputer()).not.toContain(contosoTaskId);
  });
});
