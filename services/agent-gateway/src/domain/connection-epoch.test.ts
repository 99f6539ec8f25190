import { describe, expect, it } from '@jest/globals';
import { epochBaseAfterLoss } from './connection-epoch.ts';
import { factsVersion } from './agent-facts.ts';

describe('connection epochs after Redis lost them', () => {
  it('continue from the seconds since 1970, above any plausible count of earlier connections', () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    expect(epochBaseAfterLoss(now)).toBe(1_796_299_200);
    expect(epochBaseAfterLoss(now + 1_000)).toBe(epochBaseAfterLoss(now) + 1);
  });

  it('keep facts versions (epoch × 2^20 + report) safe integers for centuries', () => {
    const base = epochBaseAfterLoss(Date.parse('2200-01-01T00:00:00Z'));
    expect(Number.isSafeInteger(factsVersion(base + 1_000_000, 2 ** 20))).toBe(true);
  });
});
