import { describe, expect, it } from '@jest/globals';
import { seededRandom } from '@converge/testing';
import { drainWindowMs, planDrain } from './drain-schedule.ts';

describe('drain plan', () => {
  it('spreads Drain frames evenly over the window, in order', () => {
    const plan = planDrain(4, 1000, 0, () => 0.5);
    expect(plan.sendAtMs).toEqual([0, 250, 500, 750]);
    expect(plan.reconnectAfterMs).toEqual([0, 0, 0, 0]);
  });

  it('jitters reconnect delays across the whole range, never beyond it', () => {
    const random = seededRandom(7);
    const plan = planDrain(10_000, 5000, 2000, random);
    expect(Math.max(...plan.reconnectAfterMs)).toBeLessThanOrEqual(2000);
    expect(Math.min(...plan.reconnectAfterMs)).toBeGreaterThanOrEqual(0);
    const early = plan.reconnectAfterMs.filter((delay) => delay < 1000).length;
    expect(early).toBeGreaterThan(4500);
    expect(early).toBeLessThan(5500);
    expect(plan.sendAtMs.at(-1)).toBeLessThan(5000);
  });

  it('keeps a margin of the shutdown deadline for closing the rest', () => {
    expect(drainWindowMs(20_000, 3000)).toBe(17_000);
    expect(drainWindowMs(1000, 3000)).toBe(0);
  });
});
