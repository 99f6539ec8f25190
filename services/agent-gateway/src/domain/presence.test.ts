import { describe, expect, it } from '@jest/globals';
import { decodePresence, encodePresence } from './presence.ts';

describe('presence entries', () => {
  it('round-trip replica, epoch and connected-since', () => {
    const presence = { replica: 'gateway-7d9f-1234', epoch: 42, connectedSinceMs: 1_777_000_000_000 };
    expect(encodePresence(presence)).toBe('gateway-7d9f-1234|42|1777000000000');
    expect(decodePresence(encodePresence(presence))).toEqual(presence);
  });

  it('read anything malformed as no presence', () => {
    expect(decodePresence(null)).toBeUndefined();
    expect(decodePresence('gw|x|1')).toBeUndefined();
    expect(decodePresence('gw|1')).toBeUndefined();
    expect(decodePresence('|1|1')).toBeUndefined();
    expect(decodePresence('gw|0|1')).toBeUndefined();
  });
});
