import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConflictError, PartitionFencedError } from '@converge/errors';
import { createLogger } from '@converge/telemetry';
import type { Connection } from 'mongoose';
import {
  acquireFence,
  connectMongo,
  replaceStatement,
  storeOperations,
  writeFencedBatch,
  writeFencedBatches,
  type AggregateCollection,
} from '../src/index.ts';

const logger = createLogger({ service: 'store-test', level: 'silent' });
const group = 'owners';

interface Aggregate {
  _id: string;
  version: number;
  value: string;
}

let conn: Connection;
let other: Connection;
let aggregates: AggregateCollection;

const fences = (connection: Connection): AggregateCollection => connection.db!.collection('aggregates');
const stored = (id: string) => aggregates.findOne({ _id: id }) as Promise<Aggregate | null>;
const aggregate = (id: string, version: number, value: string): Aggregate => ({ _id: id, version, value });

beforeAll(async () => {
  const dbName = `store_fence_${randomUUID().slice(0, 8)}`;
  conn = await connectMongo({ uri: 'mongodb://127.0.0.1:27117/', dbName, logger });
  other = await connectMongo({ uri: 'mongodb://127.0.0.1:27117/', dbName, logger });
  aggregates = conn.db!.collection('aggregates');
});

afterAll(async () => {
  await conn.dropDatabase();
  await Promise.all([conn.close(), other.close()]);
});

describe('partition fences', () => {
  it('hand each new owner a newer token, and let an owner that kept its partition keep its token', async () => {
    const first = await acquireFence(fences(conn), group, 0);
    expect(first).toMatchObject({ token: 1, sentSeq: 0, kept: false });
    expect(await acquireFence(fences(conn), group, 0, first)).toMatchObject({ token: 1, kept: true });
    const second = await acquireFence(fences(other), group, 0);
    expect(second).toMatchObject({ token: 2, kept: false });
    // The first owner's token is stale now: asking to keep it takes a new one.
    expect(await acquireFence(fences(conn), group, 0, first)).toMatchObject({ token: 3, kept: false });
  });

  it('write a batch in one operation and record which batch was sent', async () => {
    const fence = await acquireFence(fences(conn), group, 1);
    const before = storeOperations(conn);
    await writeFencedBatch(
      aggregates,
      fence,
      [
        replaceStatement('a-1', 0, aggregate('a-1', 1, 'new')),
        replaceStatement('a-2', 0, aggregate('a-2', 1, 'new')),
      ],
      7,
    );
    await writeFencedBatch(
      aggregates,
      fence,
      [replaceStatement('a-1', 1, aggregate('a-1', 2, 'changed'))],
      8,
    );
    expect((storeOperations(conn).total ?? 0) - (before.total ?? 0)).toBe(2);
    expect(await stored('a-1')).toEqual(aggregate('a-1', 2, 'changed'));
    expect(await stored('a-2')).toEqual(aggregate('a-2', 1, 'new'));
    expect(await acquireFence(fences(conn), group, 1, fence)).toMatchObject({ sentSeq: 8, kept: true });
  });

  it('refuse every write of a stale owner, the fence document included', async () => {
    const stale = await acquireFence(fences(conn), group, 2);
    await writeFencedBatch(aggregates, stale, [replaceStatement('b-1', 0, aggregate('b-1', 1, 'first'))], 1);
    const current = await acquireFence(fences(other), group, 2);
    const write = writeFencedBatch(
      aggregates,
      stale,
      [
        replaceStatement('b-1', 1, aggregate('b-1', 2, 'stale')),
        replaceStatement('b-2', 0, aggregate('b-2', 1, 'stale')),
      ],
      2,
    );
    await expect(write).rejects.toBeInstanceOf(PartitionFencedError);
    expect(await stored('b-1')).toEqual(aggregate('b-1', 1, 'first'));
    expect(await stored('b-2')).toBeNull();
    expect(await fences(conn).findOne({ _id: current.id })).toMatchObject({
      fence: current.token,
      sentSeq: 1,
    });
  });

  it('report an aggregate someone else wrote as a conflict, never overwriting it', async () => {
    const fence = await acquireFence(fences(conn), group, 3);
    await writeFencedBatch(aggregates, fence, [replaceStatement('c-1', 0, aggregate('c-1', 1, 'owner'))], 1);
    await aggregates.updateOne({ _id: 'c-1' }, { $set: { value: 'intruder', version: 5 } });
    const write = writeFencedBatch(
      aggregates,
      fence,
      [replaceStatement('c-1', 1, aggregate('c-1', 2, 'owner'))],
      2,
    );
    await expect(write).rejects.toBeInstanceOf(ConflictError);
    expect(await stored('c-1')).toEqual(aggregate('c-1', 5, 'intruder'));
    // A new aggregate whose id exists already is a conflict too, not a silent overwrite.
    await expect(
      writeFencedBatch(aggregates, fence, [replaceStatement('c-1', 0, aggregate('c-1', 1, 'again'))], 3),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it("write several partitions' batches in one operation, and refuse those of a partition with a newer owner", async () => {
    const [p4, p5, p6] = await Promise.all(
      [4, 5, 6].map((partition) => acquireFence(fences(conn), group, partition)),
    );
    const before = storeOperations(conn);
    const written = await writeFencedBatches(aggregates, [
      { fence: p4!, statements: [replaceStatement('d-4', 0, aggregate('d-4', 1, 'four'))], sentSeq: 1 },
      { fence: p5!, statements: [replaceStatement('d-5', 0, aggregate('d-5', 1, 'five'))], sentSeq: 2 },
    ]);
    expect(written).toEqual([undefined, undefined]);
    expect((storeOperations(conn).total ?? 0) - (before.total ?? 0)).toBe(1);
    expect(await stored('d-4')).toEqual(aggregate('d-4', 1, 'four'));
    expect(await acquireFence(fences(conn), group, 5, p5)).toMatchObject({ sentSeq: 2, kept: true });

    await acquireFence(fences(other), group, 5);
    const refused = await writeFencedBatches(aggregates, [
      { fence: p6!, statements: [replaceStatement('d-6', 0, aggregate('d-6', 1, 'six'))], sentSeq: 1 },
      { fence: p5!, statements: [replaceStatement('d-5', 1, aggregate('d-5', 2, 'stale'))], sentSeq: 3 },
      { fence: p4!, statements: [replaceStatement('d-4', 1, aggregate('d-4', 2, 'after'))], sentSeq: 2 },
    ]);
    expect(refused[0]).toBeInstanceOf(ConflictError);
    expect(refused[1]).toBeInstanceOf(PartitionFencedError);
    expect(refused[2]).toBeInstanceOf(ConflictError);
    // In order: the batch before the refused one went in, none after it did.
    expect(await stored('d-6')).toEqual(aggregate('d-6', 1, 'six'));
    expect(await stored('d-5')).toEqual(aggregate('d-5', 1, 'five'));
    expect(await stored('d-4')).toEqual(aggregate('d-4', 1, 'four'));
  });
});
