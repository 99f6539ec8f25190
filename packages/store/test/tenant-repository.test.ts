import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConflictError, NotFoundError, ValidationError } from '@converge/errors';
import { createLogger } from '@converge/telemetry';
import type { Connection, Model } from 'mongoose';
import {
  allTenants,
  asTenantId,
  connectMongo,
  mongoReadiness,
  TenantRepository,
  withOutbox,
} from '../src/index.ts';
import { computerModel, type Computer } from './fixtures/computer.model.ts';

const mongoUri = 'mongodb://127.0.0.1:27117/';
const logger = createLogger({ service: 'store-test', level: 'silent' });
const tenantA = asTenantId('tenant-a');
const tenantB = asTenantId('tenant-b');

let conn: Connection;
let model: Model<Computer>;
let computers: TenantRepository<Computer>;

function computer(id: string, fields: Partial<Computer> = {}): Omit<Computer, 'tenantId'> {
  return { _id: id, name: id, status: 'identified', seenAt: null, version: 1, outbox: [], ...fields };
}

beforeAll(async () => {
  conn = await connectMongo({ uri: mongoUri, dbName: `store_repo_${randomUUID().slice(0, 8)}`, logger });
  model = computerModel(conn);
  await model.init();
  computers = new TenantRepository(model);
  // Tenant A: 7 identified computers named pc-00..pc-06 out of order, 3 needing onboarding; tenant B: lookalikes.
  for (const n of [3, 0, 6, 1, 5, 2, 4])
    await computers.insert(tenantA, computer(`a-${n}`, { name: `pc-0${n}` }));
  for (const n of [7, 8, 9]) {
    await computers.insert(tenantA, computer(`a-${n}`, { name: `pc-0${n}`, status: 'needs-onboarding' }));
  }
  for (const n of [0, 1, 2]) await computers.insert(tenantB, computer(`b-${n}`, { name: `pc-0${n}` }));
});

afterAll(async () => {
  await conn.dropDatabase();
  await conn.close();
});

describe('a tenant repository', () => {
  it("never returns another tenant's documents, even when asked for them by id or by filter", async () => {
    expect(await computers.findById(tenantA, 'b-0')).toBeNull();
    await expect(computers.getById(tenantA, 'b-0')).rejects.toThrow(NotFoundError);
    expect(await computers.findOne(tenantA, { tenantId: tenantB, name: 'pc-00' })).toMatchObject({
      _id: 'a-0',
    });
    expect(await computers.count(tenantB)).toBe(3);
    const page = await computers.list(tenantB, { filter: { tenantId: tenantA }, limit: 100 });
    expect(page.items.map((doc) => doc._id).sort()).toEqual(['b-0', 'b-1', 'b-2']);
  });

  it('reads across the tenants of an MSP scope, and nothing for an empty scope', async () => {
    expect(await computers.count([tenantA, tenantB], { name: 'pc-01' })).toBe(2);
    expect(await computers.count([])).toBe(0);
    expect(await computers.count(allTenants, { name: 'pc-01' })).toBe(2);
    expect(await computers.count(allTenants, { tenantId: tenantB })).toBe(3);
  });

  it('returns plain objects, not mongoose documents', async () => {
    const doc = await computers.getById(tenantA, 'a-1');
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(doc).toMatchObject({ _id: 'a-1', tenantId: 'tenant-a', name: 'pc-01', version: 1 });
  });

  it('pages through a filtered list in a stable order, without skipping or repeating', async () => {
    const seen: string[] = [];
    const request = {
      filter: { status: 'identified' as const },
      sortBy: 'name',
      direction: 'desc' as const,
      limit: 3,
    };
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await computers.list(tenantA, { ...request, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.items.map((doc) => doc.name));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(['pc-06', 'pc-05', 'pc-04', 'pc-03', 'pc-02', 'pc-01', 'pc-00']);
  });

  it('breaks ties in the sort key by _id and pages past null keys', async () => {
    const tenant = asTenantId(`tenant-ties-${randomUUID()}`);
    const seenAt = new Date('2025-05-01T00:00:00Z');
    for (const id of ['t-4', 't-2', 't-3']) await computers.insert(tenant, computer(id, { seenAt }));
    for (const id of ['t-1', 't-5']) await computers.insert(tenant, computer(id));
    for (const direction of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await computers.list(tenant, {
          sortBy: 'seenAt',
          direction,
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.items.map((doc) => doc._id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      const ascending = ['t-1', 't-5', 't-2', 't-3', 't-4'];
      expect(seen).toEqual(direction === 'asc' ? ascending : [...ascending].reverse());
    }
  });

  it('rejects a cursor that was not issued by a list', async () => {
    await expect(computers.list(tenantA, { cursor: 'bogus' })).rejects.toThrow(ValidationError);
  });

  it('lets only one of several writers holding the same version win', async () => {
    await computers.insert(tenantA, computer('a-race'));
    const names = ['w-0', 'w-1', 'w-2', 'w-3', 'w-4', 'w-5'];
    const results = await Promise.allSettled(
      names.map((name) => computers.update(tenantA, 'a-race', 1, { $set: { name } })),
    );
    const winners = results.filter((result) => result.status === 'fulfilled');
    const losers = results.filter((result) => result.status === 'rejected');
    expect(winners).toHaveLength(1);
    for (const loser of losers) expect(loser.reason).toBeInstanceOf(ConflictError);
    const stored = await computers.getById(tenantA, 'a-race');
    expect(stored.version).toBe(2);
    expect(stored.name).toBe(winners[0]!.value.name);
  });

  it('keeps every one of many concurrent updates to one document', async () => {
    await computers.insert(tenantA, computer('a-busy'));
    const marks = Array.from({ length: 8 }, (_, n) => `m-${n}`);
    await Promise.all(
      marks.map((mark) =>
        model.updateOne(
          { _id: 'a-busy' },
          withOutbox({}, [{ type: 't', topic: 'x', subject: mark, data: {} }]),
        ),
      ),
    );
    const stored = await computers.getById(tenantA, 'a-busy');
    expect(stored.outbox.map((entry) => entry.subject).sort()).toEqual(marks);
  });

  it("reports another tenant's document as not found rather than as a conflict", async () => {
    await expect(computers.update(tenantA, 'b-1', 1, { $set: { name: 'x' } })).rejects.toThrow(NotFoundError);
    expect((await computers.getById(tenantB, 'b-1')).name).toBe('pc-01');
  });

  it('deletes only inside the tenant', async () => {
    expect(await computers.deleteById(tenantA, 'b-2')).toBe(false);
    expect(await computers.deleteById(tenantB, 'b-2')).toBe(true);
  });

  it('reports readiness from a ping', async () => {
    expect(await mongoReadiness(conn)()).toBe(true);
  });
});
