import { describe, expect, it } from '@jest/globals';
import { allTenants, asTenantId, scopedFilter, scopeIncludes } from './tenant-id.ts';

const contoso = asTenantId('tenant-contoso');
const fabrikam = asTenantId('tenant-fabrikam');

describe('a tenant scope', () => {
  it('adds its tenants to a filter after the caller conditions, so a filter cannot widen it', () => {
    expect(scopedFilter(contoso, { tenantId: 'tenant-fabrikam', name: 'pc' })).toEqual({
      tenantId: 'tenant-contoso',
      name: 'pc',
    });
    expect(scopedFilter([contoso, fabrikam], {})).toEqual({ tenantId: { $in: [contoso, fabrikam] } });
  });

  it('of every tenant leaves the filter as the caller wrote it', () => {
    expect(scopedFilter(allTenants, { tenantId: 'tenant-fabrikam' })).toEqual({
      tenantId: 'tenant-fabrikam',
    });
  });

  it('includes exactly its tenants', () => {
    expect(scopeIncludes(contoso, 'tenant-contoso')).toBe(true);
    expect(scopeIncludes(contoso, 'tenant-fabrikam')).toBe(false);
    expect(scopeIncludes([fabrikam], 'tenant-fabrikam')).toBe(true);
    expect(scopeIncludes([], 'tenant-fabrikam')).toBe(false);
    expect(scopeIncludes(allTenants, 'anything')).toBe(true);
  });
});
