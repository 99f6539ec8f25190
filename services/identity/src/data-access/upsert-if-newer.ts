import type { Model, UpdateQuery } from 'mongoose';
import { isDuplicateKeyError } from './duplicate-key.ts';

/**
 * Writes a projection row only if the stored one is older (`order` lower) or missing, in one conditional
 * upsert: when a row at `order` or newer exists the filter misses, the upsert tries to insert the same `_id`
 * and the duplicate key says "already applied". Redelivered and reordered events so change nothing twice.
 */
export async function upsertIfNewer<T extends { _id: string }>(
  model: Model<T>,
  id: string,
  orderField: keyof T & string,
  order: number,
  set: UpdateQuery<T>['$set'],
): Promise<boolean> {
  try {
    const filter = { _id: id, [orderField]: { $lt: order } };
    await model.updateOne(
      filter,
      { $set: { ...set, [orderField]: order } },
      {
        upsert: true,
      },
    );
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}
