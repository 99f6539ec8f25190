import { randomUUID } from 'node:crypto';
import { ConflictError, PartitionFencedError } from '@converge/errors';
import { mongo } from 'mongoose';
import { isDuplicateKeyError } from './duplicate-key.ts';

/*
 * Fencing tokens for partition owners (docs/architecture.md §9). Each partition of an owner group has a fence
 * document in the collection of the aggregates it owns, so that one ordered bulk write can check the token and
 * write the aggregates: a newer token makes the first statement collide and nothing after it is written.
 */

/** The fence document of one partition, kept beside the aggregates. */
export interface FenceDocument {
  _id: string;
  /** The newest fencing token handed out for the partition. */
  fence: number;
  /** The last batch whose events were sent; a take-over re-sends the events of newer ones. */
  sentSeq: number;
  owner: string;
  acquiredAt: Date;
}

/** A collection of aggregates named by string ids, with their partitions' fence documents. */
export type AggregateCollection = mongo.Collection<{ _id: string }>;

/** The fence a member holds on a partition. */
export interface PartitionFence {
  id: string;
  partition: number;
  token: number;
  /** The last batch sequence number whose events were sent, as the fence document had it when acquired. */
  sentSeq: number;
  /** True when the member already held this token and no one took the partition since: its state still holds. */
  kept: boolean;
}

/** Ids of fence documents start with this, which no aggregate id does (ids are uuids or `<kind>-…` names). */
export const fenceIdPrefix = 'fence:';

export function fenceId(groupId: string, partition: number): string {
  return `${fenceIdPrefix}${groupId}:${partition}`;
}

/** One member of one process; written in the fence document for operators, never compared. */
const memberName = `${process.pid}-${randomUUID().slice(0, 8)}`;

/**
 * Takes partition `partition` of group `groupId`: keeps `held` when its token is still the newest (this member
 * kept the partition across a rebalance), else increments the token atomically and returns the new one.
 */
export async function acquireFence(
  aggregates: AggregateCollection,
  groupId: string,
  partition: number,
  held?: PartitionFence,
): Promise<PartitionFence> {
  const collection = aggregates as unknown as mongo.Collection<FenceDocument>;
  const id = fenceId(groupId, partition);
  const acquiredAt = new Date();
  if (held !== undefined) {
    const still = await collection.findOneAndUpdate(
      { _id: id, fence: held.token },
      { $set: { owner: memberName, acquiredAt } },
      { returnDocument: 'after' },
    );
    if (still !== null) return { id, partition, token: held.token, sentSeq: still.sentSeq, kept: true };
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const taken = await collection.findOneAndUpdate(
        { _id: id },
        { $inc: { fence: 1 }, $set: { owner: memberName, acquiredAt }, $setOnInsert: { sentSeq: 0 } },
        { upsert: true, returnDocument: 'after' },
      );
      if (taken === null) throw new Error(`fence ${id} was not written`);
      return { id, partition, token: taken.fence, sentSeq: taken.sentSeq, kept: false };
    } catch (error) {
      // Two members creating the fence document at once: one insert loses, and increments on the next try.
      if (attempt > 0 || !isDuplicateKeyError(error)) throw error;
    }
  }
}

/** A statement replacing aggregate `_id` that this owner last wrote at `version` (0: a new aggregate). */
export function replaceStatement(
  id: string,
  version: number,
  replacement: mongo.Document,
): mongo.AnyBulkWriteOperation<{ _id: string }> {
  return { replaceOne: { filter: { _id: id, version }, replacement, upsert: true } };
}

/**
 * Writes one batch of an owner: the fence check, then `statements` (each a `replaceStatement`), in one ordered
 * bulk write, recording `sentSeq` as the last batch whose events were sent. A newer token on the partition gives
 * `PartitionFencedError`; an aggregate whose stored version is not the one the owner last wrote (someone else
 * wrote it: only a stale owner can) gives `ConflictError`, after which the owner must load the partition again.
 * A statement's condition that misses makes its upsert collide on `_id`, so a miss is never silent.
 */
export async function writeFencedBatch(
  collection: AggregateCollection,
  fence: PartitionFence,
  statements: readonly mongo.AnyBulkWriteOperation<{ _id: string }>[],
  sentSeq: number,
): Promise<void> {
  const [refusal] = await writeFencedBatches(collection, [{ fence, statements, sentSeq }]);
  if (refusal !== undefined) throw refusal;
}

/** One partition's batch in a group commit. */
export interface FencedBatch {
  fence: PartitionFence;
  statements: readonly mongo.AnyBulkWriteOperation<{ _id: string }>[];
  sentSeq: number;
}

/**
 * Writes the batches of several partitions of one owner in one ordered bulk write (a group commit), each behind
 * its own fence check, as `writeFencedBatch` writes one. Resolves with what refused each batch, `undefined` for
 * the written ones. When one batch is refused, those after it in the write are not written and those before it
 * may have been: each that is not fenced gets a `ConflictError`, after which its owner loads the partition again.
 */
export async function writeFencedBatches(
  collection: AggregateCollection,
  batches: readonly FencedBatch[],
): Promise<(PartitionFencedError | ConflictError | undefined)[]> {
  const statements = batches.flatMap(({ fence, statements: writes, sentSeq }) => [
    {
      updateOne: {
        filter: { _id: fence.id, fence: fence.token },
        update: { $set: { sentSeq } },
        upsert: true,
      },
    },
    ...writes,
  ]);
  try {
    await collection.bulkWrite(statements, { ordered: true });
    return batches.map(() => undefined);
  } catch (error) {
    if (!(error instanceof mongo.MongoBulkWriteError) && !isDuplicateKeyError(error)) throw error;
    // FerretDB reports a failed statement at index 0 whichever it was: ask the fence documents which it was.
    const current = (await collection
      .find({ _id: { $in: batches.map(({ fence }) => fence.id) } })
      .toArray()) as FenceDocument[];
    const tokens = new Map(current.map((fence) => [fence._id, fence.fence]));
    return batches.map(({ fence }) =>
      tokens.get(fence.id) === fence.token
        ? new ConflictError(
            `a batch of partition ${fence.partition} was refused (an aggregate of it, or of a partition written with it, was written by another process)`,
            { cause: error },
          )
        : new PartitionFencedError(fence.partition),
    );
  }
}
