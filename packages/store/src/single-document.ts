import { mongo, type Connection, type Model, type QueryFilter, type UpdateQuery } from 'mongoose';
import sift from 'sift';
import { isDuplicateKeyError } from './duplicate-key.ts';
import { isFerretDbConnection } from './mongo-connection.ts';

/*
 * Reads and conditional writes of one document named by `_id`, that stay off collection scans on FerretDB.
 *
 * FerretDB v1 (SQLite) uses an index only when the whole filter is `{ _id: <string or ObjectId> }`: add a
 * `version` or lease condition and every such query reads the entire collection, so a conditional update costs
 * more with every document stored. On FerretDB these helpers therefore read the document by `_id` alone, test
 * the rest of the filter here (with sift, MongoDB's query language in JavaScript) and write by `_id` alone. The
 * read and the write are one step for this process because every conditional write of the document goes
 * through the same per-document queue; with the single socket `connectMongo` opens on FerretDB, that is the
 * isolation FerretDB v1 offered anyway (one process per database, docs/architecture.md §4). On MongoDB, and for
 * filters that do not name one `_id`, the filter goes to the server as it is.
 */

type IdFilter = Record<string, unknown> & { _id?: unknown };

interface WriteOptions {
  upsert: boolean;
  /** 'before' returns the document as it was, which spares FerretDB writing and reading it back at once. */
  returnDocument: 'before' | 'after';
}

/** What the helpers do with a collection: through a mongoose model (casting, middleware) or the raw driver. */
export interface DocumentStore<T> {
  db: Connection;
  collectionName: string;
  findOne(filter: object): Promise<T | null>;
  findOneAndUpdate(filter: object, update: object, options: WriteOptions): Promise<T | null>;
  updateOne(filter: object, update: object): Promise<unknown>;
  deleteOne(filter: object): Promise<boolean>;
  /** The filter with values of the stored types, for testing it here. */
  cast(filter: object): object;
}

function modelStore<T>(model: Model<T>): DocumentStore<T> {
  return {
    db: model.db,
    collectionName: model.collection.collectionName,
    findOne: (filter) =>
      model
        .findOne(filter as QueryFilter<T>)
        .lean<T>()
        .exec(),
    findOneAndUpdate: (filter, update, options) =>
      model
        .findOneAndUpdate(filter as QueryFilter<T>, update, options)
        .lean<T>()
        .exec(),
    updateOne: (filter, update) => model.updateOne(filter as QueryFilter<T>, update).exec(),
    deleteOne: async (filter) => (await model.deleteOne(filter as QueryFilter<T>)).deletedCount === 1,
    cast: (filter) => model.find().cast(model, filter) as object,
  };
}

/**
 * The model's collection through the driver, bypassing mongoose: values are sent and returned exactly as
 * stored (the outbox relay needs its entries back as stored for `$pullAll` to match them).
 */
export function rawStore<T extends mongo.Document>(model: {
  db: Connection;
  collection: object;
}): DocumentStore<T> {
  const collection = model.collection as unknown as mongo.Collection<T>;
  return {
    db: model.db,
    collectionName: collection.collectionName,
    findOne: (filter) => collection.findOne(filter) as Promise<T | null>,
    findOneAndUpdate: (filter, update, options) =>
      collection.findOneAndUpdate(filter, update, options) as Promise<T | null>,
    updateOne: (filter, update) => collection.updateOne(filter, update),
    deleteOne: async (filter) => (await collection.deleteOne(filter)).deletedCount === 1,
    cast: (filter) => filter,
  };
}

/** Per connection, the tail of each document's queue of conditional writes, by `<collection>\0<id>`. */
const queues = new WeakMap<Connection, Map<string, Promise<unknown>>>();

/** Runs `task` after every earlier task queued for the same document of the same connection has finished. */
async function queued<T>(
  store: DocumentStore<unknown>,
  id: string | mongo.ObjectId,
  task: () => Promise<T>,
): Promise<T> {
  let byDocument = queues.get(store.db);
  if (byDocument === undefined) {
    byDocument = new Map();
    queues.set(store.db, byDocument);
  }
  const key = `${store.collectionName}\0${typeof id === 'string' ? id : id.toHexString()}`;
  const previous = byDocument.get(key) ?? Promise.resolve();
  const run = previous.then(task, task);
  const tail = run.catch(() => undefined);
  byDocument.set(key, tail);
  try {
    return await run;
  } finally {
    if (byDocument.get(key) === tail) byDocument.delete(key);
  }
}

/** The filter split into the `_id` it names and the rest, when FerretDB should take it by `_id`. */
function byId(
  store: DocumentStore<unknown>,
  filter: IdFilter,
): { id: string | mongo.ObjectId; rest: object } | null {
  if (!isFerretDbConnection(store.db)) return null;
  const { _id: id, ...rest } = filter;
  if (typeof id === 'string' || id instanceof mongo.ObjectId) return { id, rest };
  return null;
}

function matches(store: DocumentStore<unknown>, condition: object, doc: unknown): boolean {
  if (Object.keys(condition).length === 0) return true;
  // `.default`: sift is CommonJS whose types declare its function as the default export.
  return sift.default(store.cast(condition))(doc);
}

export async function findIn<T>(store: DocumentStore<T>, filter: IdFilter): Promise<T | null> {
  const split = byId(store, filter);
  if (split === null) return store.findOne(filter);
  const doc = await store.findOne({ _id: split.id });
  return doc !== null && matches(store, split.rest, doc) ? doc : null;
}

/** With `returnDocument: 'before'`, null when nothing matched, so not for upserts. */
export async function updateIn<T>(
  store: DocumentStore<T>,
  filter: IdFilter,
  update: object,
  options: WriteOptions = { upsert: false, returnDocument: 'after' },
): Promise<T | null> {
  const { upsert } = options;
  const split = byId(store, filter);
  try {
    if (split === null) return await store.findOneAndUpdate(filter, update, options);
    const { id, rest } = split;
    return await queued(store, id, async () => {
      const current = await store.findOne({ _id: id });
      if (current === null ? !upsert : !matches(store, rest, current)) return null;
      if (options.returnDocument === 'after') return store.findOneAndUpdate({ _id: id }, update, options);
      await store.updateOne({ _id: id }, update);
      return current;
    });
  } catch (error) {
    if (upsert && isDuplicateKeyError(error)) return null;
    throw error;
  }
}

export async function deleteIn<T>(store: DocumentStore<T>, filter: IdFilter): Promise<boolean> {
  const split = byId(store, filter);
  if (split === null) return store.deleteOne(filter);
  const { id, rest } = split;
  return queued(store, id, async () => {
    const current = await store.findOne({ _id: id });
    return current !== null && matches(store, rest, current) && (await store.deleteOne({ _id: id }));
  });
}

/** The document matching `filter`, as a plain object, or null. */
export function findOneDocument<T>(model: Model<T>, filter: QueryFilter<T>): Promise<T | null> {
  return findIn(modelStore(model), filter as IdFilter);
}

/**
 * Applies `update` to the document matching `filter` in one atomic step and returns it as updated, or null when
 * no document matches. With `upsert`, a missing document is inserted (`update` must set everything it needs:
 * on FerretDB the filter's fields are not copied into it) and one that exists but does not match gives null,
 * where MongoDB reports a duplicate key; so `upsert` suits collections whose only unique index is `_id`.
 */
export function updateOneDocument<T>(
  model: Model<T>,
  filter: QueryFilter<T>,
  update: UpdateQuery<T>,
  options: { upsert?: boolean } = {},
): Promise<T | null> {
  const upsert = options.upsert ?? false;
  return updateIn(modelStore(model), filter as IdFilter, update, { upsert, returnDocument: 'after' });
}

/** Deletes the document matching `filter`; false when none matches. */
export function deleteOneDocument<T>(model: Model<T>, filter: QueryFilter<T>): Promise<boolean> {
  return deleteIn(modelStore(model), filter as IdFilter);
}
