import { describe, expect, it } from '@jest/globals';
import { createTokenBucket, msUntilToken, tryTake } from './token-bucket.ts';

describe('token bucket', () => {
  it('admits a burst at once, then one connection per refill interval', () => {
    const bucket = createTokenBucket(10, 3, 0);
    expect([tryTake(bucket, 0), tryTake(bucket, 0), tryTake(bucket, 0), tryTake(bucket, 0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(msUntilToken(bucket, 0)).toBe(100);
    expect(tryTake(bucket, 99)).toBe(false);
    expect(tryTake(bucket, 100)).toBe(true);
  });

  it('never holds more than the burst, however long it was idle', () => {
    const bucket = createTokenBucket(1000, 2, 0);
    tryTake(bucket, 0);
    tryTake(bucket, 0);
    let admitted = 0;
    while (tryTake(bucket, 60_000)) admitted++;
    expect(admitted).toBe(2);
  });

  it('does not refill when the clock goes backwards', () => {
    const bucket = createTokenBucket(10, 1, 1_000);
    expect(tryTake(bucket, 1_000)).toBe(true);
    expect(tryTake(bucket, 500)).toBe(false);
    expect(msUntilToken(bucket, 500)).toBe(100);
  });
});
