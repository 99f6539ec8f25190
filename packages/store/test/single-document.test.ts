import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConflictError } from '@converge/errors';
import { createLogger } from '@converge/telemetry';
import type { Connection, Model } from 'mongoose';
import {
  asTenantId,
  connectMongo,
  deleteOneDocument,
  findOneDocument,
  storeOperations,
  updateOneDocument,
  updateVersioned,
} from '../src/index.ts';
import { computerModel, type Computer } from './fixtures/computer.model.ts';

const logger = createLogger({ service: 'store-test', level: 'silent' });

let conn: Connection;
let model: Model<Computer>;

async function addComputer(id: string, fields: Partial<Computer> = {}): Promise<void> {
  await model.create({
    _id: id,
    tenantId: 'tenant-a',
    name: id,
    status: 'identified',
    seenAt: null,
    version: 1,
    outbox: [],
    ...fields,
  });
}

beforeAll(async () => {
  const dbName = `store_single_${randomUUID().slice(0, 8)}`;
  conn = await connectMongo({ uri: 'mongodb://127.0.0.1:27117/', dbName, logger });
  model = computerModel(conn);
  await model.init();
});

afterAll(async () => {
  await conn.dropDatabase();
  await conn.close();
});

describe('one document by id', () => {
  it('is found only when the rest of the filter matches too, a list of tenants included', async () => {
    await addComputer('c-find', { seenAt: new Date('2026-11-01T00:00:00Z') });
    const tenants = [asTenantId('tenant-b'), asTenantId('tenant-a')];
    expect(await findOneDocument(model, { _id: 'c-find', tenantId: { $in: tenants } })).toMatchObject({
      name: 'c-find',
    });
    expect(await findOneDocument(model, { _id: 'c-find', tenantId: 'tenant-b' })).toBeNull();
    // A date given as text is compared as the stored date, as the server would.
    expect(
      await findOneDocument(model, { _id: 'c-find', seenAt: { $lt: '2026-11-02T00:00:00Z' } }),
    ).not.toBeNull();
    expect(await findOneDocument(model, { _id: 'c-find', seenAt: null })).toBeNull();
    expect(await findOneDocument(model, { _id: 'c-missing' })).toBeNull();
  });

  it('is updated only when the rest of the filter matches, and comes back as updated', async () => {
    await addComputer('c-update');
    const stale = await updateOneDocument(model, { _id: 'c-update', version: 2 }, { $set: { name: 'x' } });
    expect(stale).toBeNull();
    const updated = await updateOneDocument(
      model,
      { _id: 'c-update', version: 1 },
      { $set: { name: 'pc-2' }, $inc: { version: 1 } },
    );
    expect(updated).toMatchObject({ name: 'pc-2', version: 2 });
    expect(await findOneDocument(model, { _id: 'c-update' })).toMatchObject({ name: 'pc-2', version: 2 });
  });

  it('is upserted when missing, and left alone when it exists but does not match', async () => {
    const upsert = (version: number, name: string) =>
      updateOneDocument(
        model,
        { _id: 'c-upsert', version: { $lt: version } },
        { $set: { version, name, tenantId: 'tenant-a', status: 'identified' } },
        { upsert: true },
      );
    expect(await upsert(3, 'third')).toMatchObject({ version: 3, name: 'third' });
    expect(await upsert(2, 'second')).toBeNull();
    expect(await upsert(4, 'fourth')).toMatchObject({ version: 4, name: 'fourth' });
    expect(await findOneDocument(model, { _id: 'c-upsert' })).toMatchObject({ version: 4, name: 'fourth' });
  });

  it('is deleted only when the rest of the filter matches', async () => {
    await addComputer('c-delete', { version: 5 });
    expect(await deleteOneDocument(model, { _id: 'c-delete', version: { $lte: 4 } })).toBe(false);
    expect(await deleteOneDocument(model, { _id: 'c-delete', version: { $lte: 5 } })).toBe(true);
    expect(await deleteOneDocument(model, { _id: 'c-delete' })).toBe(false);
  });

  it('lets exactly one of twenty concurrent writers at one version win, and loses none of the winners', async () => {
    await addComputer('c-race');
    for (let version = 1; version <= 3; version++) {
      const writers = Array.from({ length: 20 }, (_, n) =>
        updateVersioned(model, { _id: 'c-race' }, version, { $set: { name: `writer-${version}-${n}` } }),
      );
      const results = await Promise.allSettled(writers);
      const won = results.filter((result) => result.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
      }
    }
    expect(await findOneDocument(model, { _id: 'c-race' })).toMatchObject({ version: 4 });
  });

  it('lets one writer win per version when the writers use separate connections, as replicas do', async () => {
    await addComputer('c-replicas');
    const others = await Promise.all(
      [1, 2, 3].map(() => connectMongo({ uri: 'mongodb://127.0.0.1:27117/', dbName: conn.name, logger })),
    );
    const models = [model, ...others.map((other) => computerModel(other))];
    let wins = 0;
    try {
      for (let version = 1; version <= 30; version++) {
        const writers = models.flatMap((writer, m) =>
          [0, 1, 2].map((n) =>
            updateVersioned(writer, { _id: 'c-replicas' }, version, {
              $set: { name: `w-${version}-${m}-${n}` },
            }),
          ),
        );
        const results = await Promise.allSettled(writers);
        const won = results.filter((result) => result.status === 'fulfilled').length;
        expect(won).toBe(1);
        wins += won;
      }
    } finally {
      await Promise.all(others.map((other) => other.close()));
    }
    // No winner's increment was lost to another's: the version counts every win.
    expect(await findOneDocument(model, { _id: 'c-replicas' })).toMatchObject({ version: 1 + wins });
  });

  it('counts the commands the driver sends, a bulk write as one', async () => {
    const before = storeOperations(conn);
    await model.bulkWrite(
      ['c-count-1', 'c-count-2', 'c-count-3'].map((id) => ({
        updateOne: { filter: { _id: id }, update: { $set: { name: id } } },
      })),
    );
    await findOneDocument(model, { _id: 'c-count-1' });
    const after = storeOperations(conn);
    expect((after.update ?? 0) - (before.update ?? 0)).toBe(1);
    expect((after.find ?? 0) - (before.find ?? 0)).toBe(1);
    expect((after.total ?? 0) - (before.total ?? 0)).toBe(2);
  });
});
