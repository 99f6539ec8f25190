import { ValidationError } from '@converge/errors';
import mongoose from 'mongoose';

export type SortDirection = 'asc' | 'desc';

/**
 * One page request, the same for every list endpoint. `sortBy` must be a field the route allows (its OpenAPI
 * enum), holding one type across the collection (string, number, date, boolean or object id; null and missing
 * values are allowed); ties are broken by `_id`, so the order is total and pages never skip or repeat.
 */
export interface PageRequest {
  limit?: number;
  cursor?: string;
  sortBy?: string;
  direction?: SortDirection;
}

export interface Page<T> {
  items: T[];
  /** Opaque; pass it back as `cursor` for the next page. Null on the last page. */
  nextCursor: string | null;
}

export const pageLimits = { default: 50, max: 200 } as const;

type KeyValue = string | number | boolean | Date | mongoose.Types.ObjectId | null;

// Values are tagged so that a date or an object id comes back as the same BSON type it was compared against.
type TaggedValue =
  ['s', string] | ['n', number] | ['b', boolean] | ['d', string] | ['o', string] | ['z', null];

interface CursorPosition {
  sortBy: string;
  direction: SortDirection;
  value: KeyValue;
  id: KeyValue;
}

/** The limit to use: the default when omitted, capped at the maximum. */
export function resolveLimit(limit: number | undefined): number {
  if (limit === undefined) return pageLimits.default;
  if (!Number.isInteger(limit) || limit < 1) throw new ValidationError('limit must be a positive integer');
  return Math.min(limit, pageLimits.max);
}

function tag(value: unknown): TaggedValue {
  if (value === null || value === undefined) return ['z', null];
  if (typeof value === 'string') return ['s', value];
  if (typeof value === 'number') return ['n', value];
  if (typeof value === 'boolean') return ['b', value];
  if (value instanceof Date) return ['d', value.toISOString()];
  if (value instanceof mongoose.Types.ObjectId) return ['o', value.toHexString()];
  throw new TypeError('a sort key must be a string, number, boolean, date, object id or null');
}

function untag(tagged: unknown): KeyValue {
  if (!Array.isArray(tagged) || tagged.length !== 2) throw invalidCursor();
  const [kind, raw] = tagged as [unknown, unknown];
  if (kind === 'z' && raw === null) return null;
  if (kind === 's' && typeof raw === 'string') return raw;
  if (kind === 'n' && typeof raw === 'number') return raw;
  if (kind === 'b' && typeof raw === 'boolean') return raw;
  if (kind === 'd' && typeof raw === 'string' && !Number.isNaN(Date.parse(raw))) return new Date(raw);
  if (kind === 'o' && typeof raw === 'string' && mongoose.Types.ObjectId.isValid(raw)) {
    return new mongoose.Types.ObjectId(raw);
  }
  throw invalidCursor();
}

function invalidCursor(): ValidationError {
  return new ValidationError('invalid cursor', [
    { path: 'query.cursor', message: 'not a cursor from this list' },
  ]);
}

/** Writes a cursor after a document's sort key and `_id` (a missing key counts as null, as MongoDB sorts it). */
export function encodeCursor(position: {
  sortBy: string;
  direction: SortDirection;
  value: unknown;
  id: unknown;
}): string {
  const body = { s: position.sortBy, d: position.direction, v: tag(position.value), i: tag(position.id) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** Reads a cursor from a client; anything malformed or tampered with is a `ValidationError`. */
export function decodeCursor(cursor: string): CursorPosition {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof body !== 'object' || body === null) throw invalidCursor();
  const { s, d, v, i } = body as Record<string, unknown>;
  if (typeof s !== 'string' || (d !== 'asc' && d !== 'desc')) throw invalidCursor();
  return { sortBy: s, direction: d, value: untag(v), id: untag(i) };
}

function readPath(doc: unknown, path: string): unknown {
  let current: unknown = doc;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The conditions that select what comes after `position` in its order (keyset pagination). */
function after(position: CursorPosition): Record<string, unknown> {
  const { sortBy, value, id } = position;
  const beyond = position.direction === 'asc' ? '$gt' : '$lt';
  const idAfter = { _id: { [beyond]: id } };
  if (sortBy === '_id') return idAfter;
  const tie = { [sortBy]: value, ...idAfter };
  // MongoDB orders null and missing values before every other value, and `$gt`/`$lt` never match null.
  if (value === null) {
    return position.direction === 'asc' ? { $or: [tie, { [sortBy]: { $ne: null } }] } : tie;
  }
  const further: Record<string, unknown>[] = [{ [sortBy]: { [beyond]: value } }, tie];
  if (position.direction === 'desc') further.push({ [sortBy]: null });
  return { $or: further };
}

export interface PageQuery {
  filter: Record<string, unknown>;
  sort: Record<string, 1 | -1>;
  /** One more than the page size: the extra document tells whether a next page exists. */
  fetchLimit: number;
}

/** Builds the find for one page: the caller's filter, the keyset condition after the cursor, and the sort. */
export function pageQuery(request: PageRequest, filter: Record<string, unknown>): PageQuery {
  const sortBy = request.sortBy ?? '_id';
  const direction = request.direction ?? 'asc';
  const limit = resolveLimit(request.limit);
  const order = direction === 'asc' ? 1 : -1;
  const sort: Record<string, 1 | -1> = sortBy === '_id' ? { _id: order } : { [sortBy]: order, _id: order };
  if (request.cursor === undefined) return { filter, sort, fetchLimit: limit + 1 };
  const position = decodeCursor(request.cursor);
  if (position.sortBy !== sortBy || position.direction !== direction) {
    throw new ValidationError('the cursor belongs to a different sort', [
      { path: 'query.cursor', message: 'repeat the sort the cursor was issued for' },
    ]);
  }
  return { filter: { $and: [filter, after(position)] }, sort, fetchLimit: limit + 1 };
}

/** Cuts the fetched documents to the page size and issues the cursor for the next page. */
export function toPage<T>(docs: T[], request: PageRequest): Page<T> {
  const limit = resolveLimit(request.limit);
  if (docs.length <= limit) return { items: docs, nextCursor: null };
  const items = docs.slice(0, limit);
  const last = items[items.length - 1];
  const sortBy = request.sortBy ?? '_id';
  const nextCursor = encodeCursor({
    sortBy,
    direction: request.direction ?? 'asc',
    value: readPath(last, sortBy),
    id: readPath(last, '_id'),
  });
  return { items, nextCursor };
}
