import { describe, expect, it } from '@jest/globals';
import { actionForTarget, desiredStateProblem, sortVersionsNewestFirst } from './deployment-rules.ts';

describe('deployment rules', () => {
  it('ask for the permission of the target’s scope', () => {
    expect(actionForTarget({ kind: 'computer', computerId: 'c' })).toBe('manage-individual-deployments');
    expect(actionForTarget({ kind: 'person', personId: 'p' })).toBe('manage-individual-deployments');
    expect(actionForTarget({ kind: 'tag', tag: 't', tenantId: 'x' })).toBe('manage-tenant-deployments');
    expect(actionForTarget({ kind: 'tag', tag: 't', tenantId: null })).toBe(
      'manage-cross-tenant-deployments',
    );
    expect(actionForTarget({ kind: 'psa-product', productId: 'p' })).toBe('manage-cross-tenant-deployments');
  });

  it('allow software states for software and task states for tasks, and only listed pinned versions', () => {
    expect(desiredStateProblem('software', { state: 'enforced' }, [])).not.toBeNull();
    expect(desiredStateProblem('maintenance-task', { state: 'installed-any' }, [])).not.toBeNull();
    expect(desiredStateProblem('maintenance-task', { state: 'ignored' }, [])).toBeNull();
    expect(
      desiredStateProblem('software', { state: 'installed-version', version: '1.2.0' }, ['1.2']),
    ).toBeNull();
    expect(
      desiredStateProblem('software', { state: 'installed-version', version: '1.3' }, ['1.2']),
    ).not.toBeNull();
  });

  it('sort versions newest first and refuse the same version spelled twice', () => {
    const sorted = sortVersionsNewestFirst([{ version: '1.10' }, { version: '1.9' }, { version: 'beta' }]);
    expect(sorted).toEqual([{ version: 'beta' }, { version: '1.10' }, { version: '1.9' }]);
    expect(sortVersionsNewestFirst([{ version: '1.2' }, { version: '1.2.0.0' }])).toBe(false);
  });
});
