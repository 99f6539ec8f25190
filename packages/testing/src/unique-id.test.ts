import { describe, expect, it } from '@jest/globals';
import { uniqueId } from './unique-id.ts';

describe('uniqueId', () => {
  it('starts with the prefix and differs on every call', () => {
    const ids = Array.from({ length: 100 }, () => uniqueId('topic'));
    expect(new Set(ids).size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^topic-[0-9a-z]+-[0-9a-f]{8}$/);
  });
});
