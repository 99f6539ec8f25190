import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '@converge/errors';
import mongoose from 'mongoose';
import {
  decodeCursor,
  encodeCursor,
  pageLimits,
  pageQuery,
  resolveLimit,
  toPage,
} from './cursor-pagination.ts';

describe('page limits', () => {
  it('defaults when omitted and caps at the maximum', () => {
    expect(resolveLimit(undefined)).toBe(pageLimits.default);
    expect(resolveLimit(10)).toBe(10);
    expect(resolveLimit(10_000)).toBe(pageLimits.max);
  });

  it('rejects a limit below one or a fraction', () => {
    expect(() => resolveLimit(0)).toThrow(ValidationError);
    expect(() => resolveLimit(2.5)).toThrow(ValidationError);
  });
});

describe('cursors', () => {
  it('round-trip each sort key type, keeping dates and object ids as such', () => {
    const oid = new mongoose.Types.ObjectId();
    const when = new Date('2025-01-02T03:04:05.678Z');
    for (const value of ['pc-01', 42, true, when, oid, null]) {
      const position = decodeCursor(encodeCursor({ sortBy: 'k', direction: 'desc', value, id: oid }));
      expect(position).toEqual({ sortBy: 'k', direction: 'desc', value, id: oid });
    }
  });

  it('are URL-safe', () => {
    const cursor = encodeCursor({ sortBy: 'name', direction: 'asc', value: '??>>//++', id: 'x' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('reject anything not issued by a list as a ValidationError', () => {
    const forged = Buffer.from(JSON.stringify({ s: 'name', d: 'asc', v: ['x', 1], i: ['s', 'a'] })).toString(
      'base64url',
    );
    for (const cursor of ['', 'not-a-cursor', forged, Buffer.from('[1]').toString('base64url')]) {
      expect(() => decodeCursor(cursor)).toThrow(ValidationError);
    }
  });

  it('refuse a sort key of an unsupported type', () => {
    expect(() => encodeCursor({ sortBy: 'tags', direction: 'asc', value: ['a'], id: 'x' })).toThrow(
      TypeError,
    );
  });
});

describe('page queries', () => {
  it('sort by the key then _id, and fetch one extra document to see whether a next page exists', () => {
    expect(pageQuery({ sortBy: 'name', direction: 'desc', limit: 20 }, { tenantId: 't1' })).toEqual({
      filter: { tenantId: 't1' },
      sort: { name: -1, _id: -1 },
      fetchLimit: 21,
    });
    expect(pageQuery({}, {}).sort).toEqual({ _id: 1 });
  });

  it('continue after the cursor position, breaking ties by _id', () => {
    const cursor = encodeCursor({ sortBy: 'name', direction: 'asc', value: 'm', id: 'c-7' });
    expect(pageQuery({ sortBy: 'name', cursor }, { tenantId: 't1' }).filter).toEqual({
      $and: [{ tenantId: 't1' }, { $or: [{ name: { $gt: 'm' } }, { name: 'm', _id: { $gt: 'c-7' } }] }],
    });
  });

  it('in descending order, reach the null keys that MongoDB sorts last', () => {
    const cursor = encodeCursor({ sortBy: 'seenAt', direction: 'desc', value: 5, id: 'c-1' });
    expect(pageQuery({ sortBy: 'seenAt', direction: 'desc', cursor }, {}).filter).toEqual({
      $and: [{}, { $or: [{ seenAt: { $lt: 5 } }, { seenAt: 5, _id: { $lt: 'c-1' } }, { seenAt: null }] }],
    });
  });

  it('in ascending order, leave the null keys for the non-null ones', () => {
    const cursor = encodeCursor({ sortBy: 'seenAt', direction: 'asc', value: undefined, id: 'c-1' });
    expect(pageQuery({ sortBy: 'seenAt', cursor }, {}).filter).toEqual({
      $and: [{}, { $or: [{ seenAt: null, _id: { $gt: 'c-1' } }, { seenAt: { $ne: null } }] }],
    });
  });

  it('refuse a cursor issued for another sort', () => {
    const cursor = encodeCursor({ sortBy: 'name', direction: 'asc', value: 'm', id: 'c-7' });
    expect(() => pageQuery({ sortBy: 'name', direction: 'desc', cursor }, {})).toThrow(ValidationError);
    expect(() => pageQuery({ sortBy: 'status', cursor }, {})).toThrow(ValidationError);
  });
});

describe('pages', () => {
  it('end with a null cursor when nothing follows', () => {
    expect(toPage([{ _id: 'a' }], { limit: 1 })).toEqual({ items: [{ _id: 'a' }], nextCursor: null });
  });

  it('drop the extra document and point the cursor at the last item shown', () => {
    const docs = [
      { _id: 'a', agent: { name: 'x' } },
      { _id: 'b', agent: { name: 'y' } },
      { _id: 'c', agent: { name: 'z' } },
    ];
    const page = toPage(docs, { limit: 2, sortBy: 'agent.name' });
    expect(page.items.map((doc) => doc._id)).toEqual(['a', 'b']);
    expect(decodeCursor(page.nextCursor!)).toEqual({
      sortBy: 'agent.name',
      direction: 'asc',
      value: 'y',
      id: 'b',
    });
  });
});
