import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor, type ServiceProcess } from '@converge/testing';
import { startSyncService, type Api as SyncApi } from '../../sync/test/fixtures/sync-service.ts';
import {
  powershellScript,
  softwareBody,
  startDeployments,
  type Api,
  type DeploymentsUnderTest,
} from './deployments-service.ts';

interface Entry {
  tenantId: string;
  actor: { subject: string; impersonatedBy: string | null };
  entityType: string;
  entityId: string;
  action: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

let deployments: DeploymentsUnderTest;
let sync: { service: ServiceProcess; api: SyncApi };
let mspAdmin: Api;
let tenantAdmin: Api;

async function created(response: Response): Promise<{ id: string; version: number }> {
  if (response.status !== 201)
    throw new Error(`expected 201, got ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string; version: number };
}

/** The audit log's entries about one entity, oldest first, once there are `count` of them. */
async function auditOf(entityId: string, count: number): Promise<Entry[]> {
  let entries: Entry[] = [];
  await waitFor(
    async () => {
      const answer = await sync.api.call('msp-admin', 'GET', `/audit?entityId=${entityId}`);
      entries = (answer.body as { items: Entry[] }).items.reverse();
      return entries.length >= count;
    },
    { timeoutMs: 20_000 },
  );
  return entries;
}

beforeAll(async () => {
  deployments = await startDeployments();
  // Sync reads this run's audit entries: the same topics.
  sync = await startSyncService({ KAFKA_TOPIC_PREFIX: deployments.topicPrefix });
  [mspAdmin, tenantAdmin] = await Promise.all([deployments.as('msp-admin'), deployments.as('tenant-admin')]);
});

afterAll(async () => {
  await Promise.all([deployments.stop(), sync.service.stop()]);
});

describe('catalog and deployment changes in the audit log', () => {
  it('record who changed a script, with its body before and after, once each', async () => {
    const script = await created(await mspAdmin.post('/scripts', { name: 'Install', ...powershellScript }));
    const changed = await mspAdmin.put(`/scripts/${script.id}`, {
      ...powershellScript,
      name: 'Install',
      body: 'Start-Process msiexec',
      version: script.version,
    });
    expect(changed.status).toBe(200);
    expect((await mspAdmin.delete(`/scripts/${script.id}?version=2`)).status).toBe(204);
    const entries = await auditOf(script.id, 3);
    expect(
      entries.map(({ action, actor, entityType, tenantId }) => ({ action, actor, entityType, tenantId })),
    ).toEqual(
      ['created', 'updated', 'deleted'].map((action) => ({
        action,
        actor: { subject: 'msp-admin', impersonatedBy: null },
        entityType: 'script',
        // A global script: logged in the tenant of who changed it.
        tenantId: 'tenant-msp',
      })),
    );
    expect(entries[1]?.before).toMatchObject({ body: powershellScript.body });
    expect(entries[1]?.after).toMatchObject({ body: 'Start-Process msiexec' });
    // Redelivered or not, each change is one entry.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await auditOf(script.id, 3)).toHaveLength(3);
  });

  it("record a tenant admin's software and deployment changes in its tenant, where its own admins read them", async () => {
    const script = await created(await tenantAdmin.post('/scripts', { name: 'Detect', ...powershellScript }));
    const software = await created(
      await tenantAdmin.post('/software', softwareBody('Contoso CRM', script.id)),
    );
    const deployment = await created(
      await tenantAdmin.post('/deployments', {
        maintenanceItem: { kind: 'software', id: software.id },
        target: { kind: 'tenant', tenantId: 'tenant-contoso' },
        desiredState: { state: 'installed-latest' },
        enforcement: 'required',
      }),
    );
    const [entry] = await auditOf(deployment.id, 1);
    expect(entry).toMatchObject({
      tenantId: 'tenant-contoso',
      actor: { subject: 'tenant-admin' },
      entityType: 'deployment',
      action: 'created',
      before: null,
      after: { maintenanceItem: { kind: 'software', id: software.id }, enforcement: 'required' },
    });
    expect(await auditOf(software.id, 1)).toEqual([
      expect.objectContaining({ entityType: 'software', action: 'created', tenantId: 'tenant-contoso' }),
    ]);
    const seenByTenant = await sync.api.call('tenant-admin', 'GET', `/audit?entityId=${deployment.id}`);
    expect((seenByTenant.body as { items: Entry[] }).items).toHaveLength(1);
  });
});
