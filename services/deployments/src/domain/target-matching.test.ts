import { describe, it, expect } from '@jest/globals';
import { computer, directory, person, tenant } from './deployment.fixtures.ts';
import { indexDirectory } from './directory-index.ts';
import { matchesDeviceFilter, matchTarget, scopeOf } from './target-matching.ts';
import type { DeviceFilter, DeviceType, Target } from './types.ts';

const day = 86_400_000;
const now = 100 * day;

const index = indexDirectory(
  directory({
    tenants: [
      tenant('msp'),
      tenant('contoso', { parentTenantId: 'msp', tags: ['vip'] }),
      tenant('contoso-east', { parentTenantId: 'contoso' }),
      tenant('fabrikam'),
    ],
    people: [
      person('alice', { tags: ['finance'] }),
      person('bob'),
      person('carol', { tenantId: 'fabrikam' }),
    ],
    entraGroups: [
      { id: 'all-staff', tenantId: 'contoso', memberPersonIds: [], memberGroupIds: ['accounting'] },
      { id: 'accounting', tenantId: 'contoso', memberPersonIds: ['alice'], memberGroupIds: ['auditors'] },
      { id: 'auditors', tenantId: 'contoso', memberPersonIds: ['bob'], memberGroupIds: ['all-staff'] },
    ],
    psaAgreements: [
      {
        id: 'agreement-1',
        tenantId: 'contoso',
        agreementTypeId: 'managed-services',
        startsAt: 10 * day,
        endsAt: null,
        additions: [
          { productId: 'edr', startsAt: 10 * day, endsAt: null },
          { productId: 'offboarding', startsAt: 200 * day, endsAt: null },
        ],
      },
      {
        id: 'agreement-2',
        tenantId: 'fabrikam',
        agreementTypeId: 'managed-services',
        startsAt: 10 * day,
        endsAt: 50 * day,
        additions: [{ productId: 'edr', startsAt: 10 * day, endsAt: null }],
      },
    ],
  }),
);

function match(target: Target, fields: Parameters<typeof computer>[0] = {}) {
  return matchTarget(computer(fields), target, index, now);
}

describe('target matching', () => {
  it('all computers reaches every tenant', () => {
    expect(match({ kind: 'all-computers' }, { tenantId: 'fabrikam' })).toBe('matched');
  });

  it('a tenant reaches only its own computers unless it includes child tenants', () => {
    const own = { kind: 'tenant', tenantId: 'contoso', includeChildTenants: false } as const;
    const withChildren = { kind: 'tenant', tenantId: 'msp', includeChildTenants: true } as const;
    expect(match(own)).toBe('matched');
    expect(match(own, { tenantId: 'contoso-east' })).toBe('not-matched');
    expect(match(withChildren, { tenantId: 'contoso-east' })).toBe('matched');
    expect(match(withChildren, { tenantId: 'fabrikam' })).toBe('not-matched');
  });

  it('a computer target reaches that computer only', () => {
    expect(match({ kind: 'computer', computerId: 'computer-1' })).toBe('matched');
    expect(match({ kind: 'computer', computerId: 'computer-2' })).toBe('not-matched');
  });

  it('a person reaches the computers they use and the ones they are primary user of', () => {
    const target = { kind: 'person', personId: 'alice' } as const;
    expect(match(target, { personIds: ['bob', 'alice'] })).toBe('matched');
    expect(match(target, { primaryPersonId: 'alice' })).toBe('matched');
    expect(match(target, { personIds: ['bob'] })).toBe('not-matched');
  });

  it('an Entra group reaches computers of members of nested groups, even when nesting loops', () => {
    expect(match({ kind: 'entra-group', groupId: 'all-staff' }, { personIds: ['alice'] })).toBe('matched');
    expect(match({ kind: 'entra-group', groupId: 'all-staff' }, { personIds: ['bob'] })).toBe('matched');
    expect(match({ kind: 'entra-group', groupId: 'accounting' }, { primaryPersonId: 'bob' })).toBe('matched');
    expect(match({ kind: 'entra-group', groupId: 'accounting' }, { personIds: ['carol'] })).toBe(
      'not-matched',
    );
  });

  it('a tag reaches tagged computers, computers of tagged tenants and of tagged primary people', () => {
    const target = (tag: string) => ({ kind: 'tag', tag, tenantId: null }) as const;
    expect(match(target('kiosk'), { tags: ['kiosk'] })).toBe('matched');
    expect(match(target('vip'))).toBe('matched');
    expect(match(target('vip'), { tenantId: 'fabrikam' })).toBe('not-matched');
    expect(match(target('finance'), { primaryPersonId: 'alice' })).toBe('matched');
    // Only the primary person's tags count, not those of everyone who logged on.
    expect(match(target('finance'), { personIds: ['alice'] })).toBe('not-matched');
  });

  it('a tag limited to a tenant reaches only that tenant', () => {
    const target = { kind: 'tag', tag: 'kiosk', tenantId: 'fabrikam' } as const;
    expect(match(target, { tags: ['kiosk'], tenantId: 'fabrikam' })).toBe('matched');
    expect(match(target, { tags: ['kiosk'] })).toBe('not-matched');
    expect(scopeOf(target)).toBe('single-tenant');
  });

  it('a PSA agreement type reaches tenants with such an agreement only while it is in force', () => {
    const target = { kind: 'psa-agreement', agreementTypeId: 'managed-services' } as const;
    expect(match(target)).toBe('matched');
    expect(match(target, { tenantId: 'fabrikam' })).toBe('psa-inactive');
    expect(match(target, { tenantId: 'msp' })).toBe('not-matched');
  });

  it('a PSA product reaches tenants while both the addition and its agreement are in force', () => {
    expect(match({ kind: 'psa-product', productId: 'edr' })).toBe('matched');
    expect(match({ kind: 'psa-product', productId: 'edr' }, { tenantId: 'fabrikam' })).toBe('psa-inactive');
    expect(match({ kind: 'psa-product', productId: 'offboarding' })).toBe('psa-inactive');
    expect(matchTarget(computer(), { kind: 'psa-product', productId: 'offboarding' }, index, 200 * day)).toBe(
      'matched',
    );
  });

  it('scopes targets as individual, single-tenant or cross-tenant', () => {
    expect(scopeOf({ kind: 'person', personId: 'alice' })).toBe('individual');
    expect(scopeOf({ kind: 'entra-group', groupId: 'accounting' })).toBe('single-tenant');
    expect(scopeOf({ kind: 'psa-product', productId: 'edr' })).toBe('cross-tenant');
  });
});

describe('device filters', () => {
  const cases: [DeviceFilter, DeviceType, boolean, boolean][] = [
    ['all', 'portable', false, true],
    ['servers', 'server', false, true],
    ['servers', 'domain-controller', false, true],
    ['servers', 'workstation', false, false],
    ['workstations', 'workstation', false, true],
    ['workstations', 'portable', false, false],
    ['portable-devices', 'portable', false, true],
    ['workstations-and-portable-devices', 'portable', false, true],
    ['workstations-and-portable-devices', 'server', false, false],
    ['domain-controllers', 'domain-controller', false, true],
    ['domain-controllers', 'server', false, false],
    ['primary-domain-controllers', 'domain-controller', true, true],
    ['primary-domain-controllers', 'domain-controller', false, false],
  ];
  it.each(cases)(
    '%s on a %s (primary DC: %s) matches: %s',
    (filter, deviceType, isPrimaryDomainController, expected) => {
      expect(matchesDeviceFilter(computer({ deviceType, isPrimaryDomainController }), filter)).toBe(expected);
    },
  );
});
