import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '@converge/errors';
import { isActive } from './date-range.ts';
import { syncedId } from './directory-ids.ts';
import { suggestTenant } from './tenant-matching.ts';
import { slugOf } from './tenant.ts';
import { retryDelayMs } from './throttling.ts';
import { checkRoleFitsTenant } from './user-access.ts';

const now = new Date('2026-06-15T00:00:00Z');

describe('PSA date ranges', () => {
  it('make an addition inactive before it starts and from its (exclusive) end', () => {
    const range = (start: string, end: string | null) => ({
      startsAt: new Date(start),
      endsAt: end === null ? null : new Date(end),
    });
    expect(isActive(range('2026-01-01T00:00:00Z', null), now)).toBe(true);
    expect(isActive(range('2026-07-01T00:00:00Z', null), now)).toBe(false);
    expect(isActive(range('2026-01-01T00:00:00Z', '2026-06-15T00:00:00Z'), now)).toBe(false);
    expect(isActive(range('2026-06-15T00:00:00Z', '2026-06-16T00:00:00Z'), now)).toBe(true);
  });
});

describe('tenant suggestions for PSA companies', () => {
  const tenants = [
    { id: 't-contoso', name: 'Contoso' },
    { id: 't-fabrikam', name: 'Fabrikam Europe' },
  ];
  it('ignore legal forms and punctuation, and suggest nothing for an unrelated name', () => {
    expect(suggestTenant('Contoso, Ltd.', tenants)).toEqual({ tenantId: 't-contoso', score: 1 });
    expect(suggestTenant('Fabrikam GmbH', tenants)?.tenantId).toBe('t-fabrikam');
    expect(suggestTenant('Woodgrove Bank', tenants)).toBeNull();
  });
});

describe('throttled calls', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 100, maxRetryAfterMs: 60_000 };
  it('wait what Retry-After asks, back off on 5xx, and never retry a refusal', () => {
    expect(retryDelayMs(429, '3', 1, policy, now)).toBe(3000);
    expect(retryDelayMs(429, 'Mon, 15 Jun 2026 00:00:05 GMT', 1, policy, now)).toBe(5000);
    expect(retryDelayMs(503, null, 2, policy, now)).toBe(200);
    expect(retryDelayMs('network-error', null, 3, policy, now)).toBe(400);
    expect(retryDelayMs(401, null, 1, policy, now)).toBeNull();
    expect(retryDelayMs(500, null, 4, policy, now)).toBeNull();
    expect(retryDelayMs(429, '3600', 1, policy, now)).toBeNull();
  });
});

describe('directory rules', () => {
  it('derive the same id for the same directory object, and different ones across tenants', () => {
    expect(syncedId('person', 't-1', 'obj')).toBe(syncedId('person', 't-1', 'obj'));
    expect(syncedId('person', 't-1', 'obj')).not.toBe(syncedId('person', 't-2', 'obj'));
  });

  it('make slugs of lowercase words joined by hyphens', () => {
    expect(slugOf('Contoso  (Europe) GmbH')).toBe('contoso-europe-gmbh');
    expect(slugOf('Café Münster')).toBe('cafe-munster');
    expect(() => slugOf('!!!')).toThrow(ValidationError);
  });

  it('give MSP roles only to people of MSP tenants', () => {
    expect(() => {
      checkRoleFitsTenant('msp-admin', { isMsp: false });
    }).toThrow(ValidationError);
    expect(() => {
      checkRoleFitsTenant('tenant-admin', { isMsp: true });
    }).toThrow(ValidationError);
    expect(() => {
      checkRoleFitsTenant('tenant-non-admin', { isMsp: false });
    }).not.toThrow();
  });
});
