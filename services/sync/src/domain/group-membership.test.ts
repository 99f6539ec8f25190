import { describe, expect, it } from '@jest/globals';
import { applyMemberChanges, resolveTransitiveMembers, type DirectMembers } from './group-membership.ts';

describe('group membership', () => {
  it('resolves people through nested groups at any depth, and stops at cycles', () => {
    const groups = new Map<string, DirectMembers>([
      ['staff', { memberPersonIds: ['ada'], memberGroupIds: ['it', 'missing'] }],
      ['it', { memberPersonIds: ['bob'], memberGroupIds: ['admins'] }],
      ['admins', { memberPersonIds: ['cy', 'ada'], memberGroupIds: ['staff'] }],
    ]);
    expect(resolveTransitiveMembers('staff', groups)).toEqual(['ada', 'bob', 'cy']);
    expect(resolveTransitiveMembers('it', groups)).toEqual(['ada', 'bob', 'cy']);
    expect(resolveTransitiveMembers('unknown', groups)).toEqual([]);
  });

  it('applies a delta of additions and removals, and applying it twice changes nothing more', () => {
    const changes = [
      { kind: 'person' as const, id: 'bob', removed: true },
      { kind: 'person' as const, id: 'dee', removed: false },
      { kind: 'group' as const, id: 'it', removed: false },
    ];
    const once = applyMemberChanges({ memberPersonIds: ['ada', 'bob'], memberGroupIds: [] }, changes);
    expect(once).toEqual({ memberPersonIds: ['ada', 'dee'], memberGroupIds: ['it'] });
    expect(applyMemberChanges(once, changes)).toEqual(once);
  });
});
