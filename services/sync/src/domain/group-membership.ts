/** A group's direct members, as stored and published (`groupUpserted`). */
export interface DirectMembers {
  memberPersonIds: readonly string[];
  memberGroupIds: readonly string[];
}

export interface MemberChange {
  kind: 'person' | 'group';
  id: string;
  removed: boolean;
}

/**
 * Applies a directory's membership changes (a delta: additions and `@removed` entries) to the direct members.
 * Order is kept and nothing is listed twice, so re-applying the same delta changes nothing.
 */
export function applyMemberChanges(current: DirectMembers, changes: readonly MemberChange[]): DirectMembers {
  const persons = new Set(current.memberPersonIds);
  const groups = new Set(current.memberGroupIds);
  for (const change of changes) {
    const set = change.kind === 'person' ? persons : groups;
    if (change.removed) set.delete(change.id);
    else set.add(change.id);
  }
  return { memberPersonIds: [...persons], memberGroupIds: [...groups] };
}

/**
 * Every person in a group, through nested groups at any depth. Cycles (A in B in A, which Entra ID allows
 * through synced on-premises groups) end where a group was already visited; unknown groups count as empty.
 */
export function resolveTransitiveMembers(
  groupId: string,
  groups: ReadonlyMap<string, DirectMembers>,
): string[] {
  const persons = new Set<string>();
  const visited = new Set<string>();
  const pending = [groupId];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (visited.has(next)) continue;
    visited.add(next);
    const group = groups.get(next);
    if (group === undefined) continue;
    for (const person of group.memberPersonIds) persons.add(person);
    pending.push(...group.memberGroupIds);
  }
  return [...persons].sort();
}

/** True when two member lists hold the same ids in the same order (an unchanged group is not rewritten). */
export function sameMembers(a: DirectMembers, b: DirectMembers): boolean {
  const same = (x: readonly string[], y: readonly string[]) =>
    x.length === y.length && x.every((id, i) => id === y[i]);
  return same(a.memberPersonIds, b.memberPersonIds) && same(a.memberGroupIds, b.memberGroupIds);
}
