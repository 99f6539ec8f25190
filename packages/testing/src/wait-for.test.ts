import { describe, expect, it } from '@jest/globals';
import { waitFor } from './wait-for.ts';

describe('waitFor', () => {
  it('resolves with the first truthy result, retrying through falsy results and errors', async () => {
    let calls = 0;
    const result = await waitFor(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('not listening yet');
        return calls >= 3 ? { calls } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(result).toEqual({ calls: 3 });
  });

  it('fails after the timeout and keeps the last error as cause', async () => {
    const failure = waitFor(
      () => {
        throw new Error('still down');
      },
      { timeoutMs: 30, intervalMs: 5 },
    );
    await expect(failure).rejects.toThrow('waitFor timed out after 30 ms');
    await expect(failure).rejects.toMatchObject({ cause: new Error('still down') });
  });
});
