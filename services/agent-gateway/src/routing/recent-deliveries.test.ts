import { describe, expect, it } from '@jest/globals';
import { RecentDeliveries } from './recent-deliveries.ts';

describe('recent deliveries', () => {
  it('remember a command written to a connection for at least the window', () => {
    const recent = new RecentDeliveries(10_000, 0);
    recent.add('command-1', 'agent-1|3', 1_000);
    expect(recent.has('command-1', 'agent-1|3', 9_000)).toBe(true);
    expect(recent.has('command-1', 'agent-1|3', 15_000)).toBe(true);
    expect(recent.has('command-1', 'agent-1|3', 26_000)).toBe(false);
  });

  it("let the same command through to the agent's next connection", () => {
    const recent = new RecentDeliveries(10_000, 0);
    recent.add('command-1', 'agent-1|3', 1_000);
    expect(recent.has('command-1', 'agent-1|4', 2_000)).toBe(false);
  });

  it('forget everything after two quiet windows', () => {
    const recent = new RecentDeliveries(10_000, 0);
    recent.add('command-1', 'agent-1|3', 9_000);
    expect(recent.has('command-1', 'agent-1|3', 35_000)).toBe(false);
  });
});
