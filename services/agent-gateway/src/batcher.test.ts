import { describe, expect, it } from '@jest/globals';
import { Batcher } from './batcher.ts';

describe('batched round trips', () => {
  it('answer the requests made while one round trip is in flight with a single next one', async () => {
    const roundTrips: number[][] = [];
    let release: () => void = () => undefined;
    const batcher = new Batcher<number, number>({
      maxBatch: 100,
      maxInFlight: 1,
      run: async (requests) => {
        roundTrips.push(requests);
        if (roundTrips.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return requests.map((request) => request * 10);
      },
    });
    const first = batcher.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = [2, 3, 4].map((request) => batcher.submit(request));
    release();
    expect(await first).toBe(10);
    expect(await Promise.all(waiting)).toEqual([20, 30, 40]);
    expect(roundTrips).toEqual([[1], [2, 3, 4]]);
  });

  it('split what is waiting into batches of at most the limit', async () => {
    const sizes: number[] = [];
    const batcher = new Batcher<number, number>({
      maxBatch: 2,
      maxInFlight: 4,
      run: (requests) => {
        sizes.push(requests.length);
        return Promise.resolve(requests);
      },
    });
    expect(await Promise.all([1, 2, 3, 4, 5].map((request) => batcher.submit(request)))).toEqual([
      1, 2, 3, 4, 5,
    ]);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('fail every request of a failed round trip', async () => {
    const batcher = new Batcher<number, number>({
      maxBatch: 10,
      maxInFlight: 1,
      run: () => Promise.reject(new Error('redis unavailable')),
    });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});
