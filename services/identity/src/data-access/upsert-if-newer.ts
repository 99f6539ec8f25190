import { isDuplicateKeyError, rawCollection, updateOneDocument } from '@converge/store';
import type { Model, QueryFilter, UpdateQuery, mongo } from 'mongoose';

/**
 * Writes a projection row only if the stored one is older (`order` lower) or missing, in one conditional
 * upsert by `_id` (no collection scan on FerretDB, see `updateOneDocument`). Redelivered and reordered events
 * so change nothing twice. False when a row at `order` or newer is already there.
 */
export async function upsertIfNewer<T extends { _id: string }>(
  model: Model<T>,
  id: string,
  orderField: keyof T & string,
  order: number,
  set: UpdateQuery<T>['$set'],
): Promise<boolean> {
  const filter = { _id: id, [orderField]: { $lt: order } } as QueryFilter<T>;
  const update = { $set: { ...set, [orderField]: order } } as UpdateQuery<T>;
  return (await updateOneDocument(model, filter, update, { upsert: true })) !== null;
}

/**
 * Writes rows by `_id` in one request, each on its own condition (a newer row, an older one to delete): the
 * batched form of `upsertIfNewer`. An upsert whose condition a newer stored row fails collides with that row's
 * `_id`, which leaves the row as it is, as wanted.
 */
export async function writeEachIfNewer<T extends { _id: string }>(
  model: Model<T>,
  statements: readonly mongo.AnyBulkWriteOperation<T>[],
): Promise<void> {
  if (statements.length === 0) return;
  try {
    await rawCollection<T>(model).bulkWrite([...statements], { ordered: false });
  } catch (error) {
    const writeErrors = (error as { writeErrors?: unknown[] }).writeErrors;
    if (!Array.isArray(writeErrors) || !writeErrors.every(isDuplicateKeyError)) throw error;
  }
}

/**
 * Inserts rows in one request, each on its own; returns the ids of those refused because a row with their `_id`
 * is there already (written meanwhile): the caller writes those conditionally instead.
 */
export async function insertNew<T extends { _id: string }>(
  model: Model<T>,
  rows: readonly T[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  try {
    await rawCollection<T>(model).insertMany(rows as mongo.OptionalUnlessRequiredId<T>[], { ordered: false });
    return new Set();
  } catch (error) {
    const writeErrors = (error as { writeErrors?: { index: number; code?: number }[] }).writeErrors;
    if (!Array.isArray(writeErrors) || !writeErrors.every(isDuplicateKeyError)) throw error;
    return new Set(writeErrors.flatMap((refused) => rows[refused.index]?._id ?? []));
  }
}
