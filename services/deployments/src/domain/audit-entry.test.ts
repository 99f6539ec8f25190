import { describe, expect, it } from '@jest/globals';
import { auditEntryRecordedSchema, scriptContentHash } from '@converge/contracts';
import { auditEntry, auditValue } from './audit-entry.ts';

const actor = { subject: 'msp-admin', impersonatedBy: null, tenantId: 'tenant-msp' };
const at = new Date('2026-12-03T10:00:00.000Z');

describe('audit entries of catalog and deployment changes', () => {
  it('name who changed what, with the values before and after, and validate against the contract', () => {
    const before = {
      _id: 'script-1',
      tenantId: 'tenant-contoso',
      name: 'Install',
      body: 'echo 1',
      version: 3,
    };
    const after = { ...before, body: 'echo 2', version: 4 };
    const entry = auditEntry({ entityType: 'script', entity: after, actor, before, after, at });
    expect(entry).toMatchObject({
      tenantId: 'tenant-contoso',
      actor: { subject: 'msp-admin', impersonatedBy: null },
      entityType: 'script',
      entityId: 'script-1',
      action: 'updated',
      at: at.toISOString(),
    });
    expect(JSON.parse(entry.before ?? '')).toEqual({
      _id: 'script-1',
      tenantId: 'tenant-contoso',
      name: 'Install',
      body: 'echo 1',
    });
    expect(JSON.parse(entry.after ?? '')).toMatchObject({ body: 'echo 2' });
    expect(auditEntryRecordedSchema.safeParse(entry).success).toBe(true);
  });

  it("log a global item's change in the tenant of who made it, and say created or deleted", () => {
    const item = { _id: 'software-1', tenantId: null, name: '7-Zip' };
    const created = auditEntry({
      entityType: 'software',
      entity: item,
      actor,
      before: null,
      after: item,
      at,
    });
    expect(created).toMatchObject({ tenantId: 'tenant-msp', action: 'created', before: null });
    const deleted = auditEntry({
      entityType: 'software',
      entity: item,
      actor,
      before: item,
      after: null,
      at,
    });
    expect(deleted).toMatchObject({ action: 'deleted', after: null });
  });

  it('never show a sealed secret, and show a long script body by its hash', () => {
    const deployment = {
      _id: 'deployment-1',
      parameterValues: [
        { name: 'apiKey', sealed: 'v1:aXY=:dGFn:c2VjcmV0' },
        { name: 'port', value: 443 },
      ],
      outbox: [{ id: 'x' }],
    };
    const shown = auditValue(deployment);
    expect(shown).not.toContain('v1:aXY=');
    expect(JSON.parse(shown)).toEqual({
      _id: 'deployment-1',
      parameterValues: [
        { name: 'apiKey', sealed: '(secret)' },
        { name: 'port', value: 443 },
      ],
    });
    const body = 'x'.repeat(70_000);
    expect(JSON.parse(auditValue({ body }))).toEqual({
      body: `${scriptContentHash(body)} (70000 characters)`,
    });
  });
});
