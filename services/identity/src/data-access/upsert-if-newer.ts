import { updateOneDocument } from '@converge/store';
import type { Model, QueryFilter, UpdateQuery } from 'mongoose';

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
