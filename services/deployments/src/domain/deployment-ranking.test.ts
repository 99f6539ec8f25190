import { describe, it, expect } from '@jest/globals';
import { computer, deployment, directory, tenant } from './deployment.fixtures.ts';
import { compareRankKeys, outranks, rankKeyOf, scopeRank } from './deployment-ranking.ts';
import { indexDirectory } from './directory-index.ts';
import type { Deployment } from './types.ts';

const directoryIndex = indexDirectory(
  directory({ tenants: [tenant('msp'), tenant('contoso', { parentTenantId: 'msp' })] }),
);
const target = computer({ tenantId: 'contoso' });

// One pair per rule, differing on that rule only (and on id, which only the last rule reads).
const pairs: [string, Deployment, Deployment][] = [
  [
    'scope',
    deployment('a', { target: { kind: 'tenant', tenantId: 'contoso', includeChildTenants: true } }),
    deployment('b', { target: { kind: 'tenant', tenantId: 'msp', includeChildTenants: true } }),
  ],
  [
    'target-kind',
    deployment('a', { target: { kind: 'psa-product', productId: 'p' } }),
    deployment('b', { target: { kind: 'all-computers' } }),
  ],
  ['device-filter', deployment('a', { deviceFilter: 'workstations' }), deployment('b')],
  ['desired-state', deployment('b', { desiredState: { state: 'uninstalled' } }), deployment('a')],
  ['priority', deployment('b', { priority: 5 }), deployment('a', { priority: -1 })],
  ['deployment-id', deployment('a'), deployment('b')],
];

describe('deployment ranking without keys', () => {
  it.each(pairs)('agrees with the ranking keys on %s, in both directions', (rule, ahead, behind) => {
    const keyAhead = rankKeyOf(ahead, target, directoryIndex);
    const keyBehind = rankKeyOf(behind, target, directoryIndex);
    expect(compareRankKeys(keyAhead, keyBehind)).toMatchObject({ rule });
    expect(compareRankKeys(keyAhead, keyBehind).order).toBeLessThan(0);
    const scopeAhead = scopeRank(ahead, target, directoryIndex);
    const scopeBehind = scopeRank(behind, target, directoryIndex);
    expect(outranks(ahead, scopeAhead, behind, scopeBehind)).toBe(true);
    expect(outranks(behind, scopeBehind, ahead, scopeAhead)).toBe(false);
  });

  it('does not rank a deployment ahead of itself', () => {
    const only = deployment('a');
    expect(outranks(only, Infinity, only, Infinity)).toBe(false);
  });
});
