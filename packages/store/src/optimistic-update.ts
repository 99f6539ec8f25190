import { ConflictError, NotFoundError } from '@converge/errors';
import type { Model, QueryFilter, UpdateQuery } from 'mongoose';
import { findOneDocument, updateOneDocument } from './single-document.ts';

/**
 * Applies `update` to the one document matching `filter` only if it is still at `expectedVersion`, and
 * increments `version` in the same atomic single-document write: the concurrency tool that works without
 * transactions (ARCHITECTURE.md §4). Returns the updated document as a plain object. Throws `ConflictError`
 * when another writer got there first, `NotFoundError` when no document matches `filter` at all. A filter that
 * names the document's `_id` stays off collection scans on FerretDB (see `updateOneDocument`).
 */
export async function updateVersioned<TDoc extends { version: number }>(
  model: Model<TDoc>,
  filter: QueryFilter<TDoc>,
  expectedVersion: number,
  update: UpdateQuery<TDoc>,
): Promise<TDoc> {
  const increments = (update.$inc ?? {}) as Record<string, unknown>;
  const versioned = { ...update, $inc: { ...increments, version: 1 } } as UpdateQuery<TDoc>;
  const conditional = { ...filter, version: expectedVersion } as QueryFilter<TDoc>;
  const updated = await updateOneDocument(model, conditional, versioned);
  if (updated !== null) return updated;
  if ((await findOneDocument(model, filter)) !== null) {
    throw new ConflictError(`${model.modelName} changed since version ${expectedVersion}; reload and retry`);
  }
  throw new NotFoundError(`${model.modelName} not found`);
}
