import { mongo, type Model, type QueryFilter, type UpdateQuery } from 'mongoose';
import { isDuplicateKeyError } from './duplicate-key.ts';

/*
 * Reads and conditional writes of one document. The filter goes to the server whole: MongoDB and the stack's
 * FerretDB both search the `_id` index for a filter that names an `_id` among other conditions, and both apply
 * a single-document update atomically, so a `version` or lease condition passes for one writer only
 * (docs/architecture.md §4).
 */

interface WriteOptions {
  upsert: boolean;
  /** 'before' returns the document as it was (null when nothing matched), sparing a read back. */
  returnDocument: 'before' | 'after';
}

/**
 * The model's collection through the driver, bypassing mongoose: values are sent and returned exactly as
 * stored (the outbox relay needs its entries back as stored for `$pullAll` to match them).
 */
export function rawCollection<T extends mongo.Document>(model: { collection: object }): mongo.Collection<T> {
  return model.collection as unknown as mongo.Collection<T>;
}

/** The document matching `filter`, as a plain object, or null. */
export function findOneDocument<T>(model: Model<T>, filter: QueryFilter<T>): Promise<T | null> {
  return model.findOne(filter).lean<T>().exec();
}

/**
 * Applies `update` to the document matching `filter` in one atomic step and returns it as updated, or null when
 * no document matches. With `upsert`, a missing document is inserted, and one that exists but does not match
 * gives null (the server reports the insert's duplicate `_id`); so `upsert` suits collections whose only unique
 * index is `_id`.
 */
export async function updateOneDocument<T>(
  model: Model<T>,
  filter: QueryFilter<T>,
  update: UpdateQuery<T>,
  options: { upsert?: boolean } = {},
): Promise<T | null> {
  const upsert = options.upsert ?? false;
  try {
    return await model.findOneAndUpdate(filter, update, { upsert, returnDocument: 'after' }).lean<T>().exec();
  } catch (error) {
    if (upsert && isDuplicateKeyError(error)) return null;
    throw error;
  }
}

/** Deletes the document matching `filter`; false when none matches. */
export async function deleteOneDocument<T>(model: Model<T>, filter: QueryFilter<T>): Promise<boolean> {
  return (await model.deleteOne(filter)).deletedCount === 1;
}

/** `findOneAndUpdate` through the driver, values as stored; null when nothing matched. */
export function updateRaw<T extends mongo.Document>(
  collection: mongo.Collection<T>,
  filter: mongo.Filter<T>,
  update: mongo.UpdateFilter<T>,
  options: WriteOptions = { upsert: false, returnDocument: 'after' },
): Promise<mongo.WithId<T> | null> {
  return collection.findOneAndUpdate(filter, update, options);
}
