import { describe, expect, it } from '@jest/globals';
import { backoffDelayMs, defaultBackoff, ReconnectBackoff } from './reconnect-backoff.ts';

describe('reconnect backoff', () => {
  it('draws each delay from zero up to base × 2^attempt', () => {
    expect(backoffDelayMs(defaultBackoff, 0, () => 0.999_999)).toBe(999);
    expect(backoffDelayMs(defaultBackoff, 3, () => 0.5)).toBe(4000);
    expect(backoffDelayMs(defaultBackoff, 3, () => 0)).toBe(0);
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    expect(backoffDelayMs(defaultBackoff, 6, () => 0.999_999)).toBe(59_999);
    expect(backoffDelayMs(defaultBackoff, 5000, () => 0.999_999)).toBe(59_999);
  });

  it('doubles the window with each consecutive failure', () => {
    const backoff = new ReconnectBackoff(defaultBackoff, () => 0.999_999);
    const delays = Array.from({ length: 8 }, () => backoff.next(0));
    expect(delays).toEqual([999, 1999, 3999, 7999, 15_999, 31_999, 59_999, 59_999]);
  });

  it('starts over after a connection that lasted a minute, but not after a shorter one', () => {
    const backoff = new ReconnectBackoff(defaultBackoff, () => 0.999_999);
    backoff.next(0);
    backoff.next(0);
    expect(backoff.next(59_999)).toBe(3999);
    expect(backoff.next(60_000)).toBe(999);
  });

  it('starts over after a drain', () => {
    const backoff = new ReconnectBackoff(defaultBackoff, () => 0.999_999);
    backoff.next(0);
    backoff.next(0);
    backoff.reset();
    expect(backoff.next(0)).toBe(999);
  });

  it('spreads delays over the whole window (full jitter), not around its end', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = Array.from({ length: 2000 }, () => backoffDelayMs(defaultBackoff, 10, random));
    const mean = delays.reduce((sum, d) => sum + d, 0) / delays.length;
    expect(Math.min(...delays)).toBeLessThan(1000);
    expect(Math.max(...delays)).toBeGreaterThan(59_000);
    expect(mean).toBeGreaterThan(27_000);
    expect(mean).toBeLessThan(33_000);
  });
});
