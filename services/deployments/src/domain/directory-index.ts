import type { Directory, PsaAgreement, Tenant } from './types.ts';

/** The directory arranged for lookups during resolution; built once per directory change. */
export interface DirectoryIndex {
  tenants: ReadonlyMap<string, Tenant>;
  /** Each tenant's chain: itself first, then its parent, up to the root. */
  tenantLineage: ReadonlyMap<string, readonly string[]>;
  personTags: ReadonlyMap<string, ReadonlySet<string>>;
  /** Every group a person belongs to, directly or through nested groups. */
  groupsOfPerson: ReadonlyMap<string, ReadonlySet<string>>;
  agreementsOfTenant: ReadonlyMap<string, readonly PsaAgreement[]>;
}

const noTags: ReadonlySet<string> = new Set();
const noGroups: ReadonlySet<string> = new Set();
const noAgreements: readonly PsaAgreement[] = [];

export function indexDirectory(directory: Directory): DirectoryIndex {
  const tenants = new Map(directory.tenants.map((tenant) => [tenant.id, tenant]));

  const tenantLineage = new Map<string, readonly string[]>();
  for (const tenant of directory.tenants) {
    // A parent loop in synced data must not hang resolution: the chain stops at the first repeat.
    const chain: string[] = [];
    const seen = new Set<string>();
    for (
      let id: string | null = tenant.id;
      id !== null && !seen.has(id);
      id = tenants.get(id)?.parentTenantId ?? null
    ) {
      seen.add(id);
      chain.push(id);
    }
    tenantLineage.set(tenant.id, chain);
  }

  const personTags = new Map(directory.people.map((person) => [person.id, new Set(person.tags)]));

  const groups = new Map(directory.entraGroups.map((group) => [group.id, group]));
  const groupsOfPerson = new Map<string, Set<string>>();
  for (const group of directory.entraGroups) {
    // Walk down from each group so a person in a nested group also belongs to every enclosing group.
    const visited = new Set<string>();
    const pending = [group.id];
    for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
      if (visited.has(id)) continue;
      visited.add(id);
      const member = groups.get(id);
      if (!member) continue;
      for (const personId of member.memberPersonIds) {
        let personGroups = groupsOfPerson.get(personId);
        if (!personGroups) groupsOfPerson.set(personId, (personGroups = new Set()));
        personGroups.add(group.id);
      }
      pending.push(...member.memberGroupIds);
    }
  }

  const agreementsOfTenant = new Map<string, PsaAgreement[]>();
  for (const agreement of directory.psaAgreements) {
    const list = agreementsOfTenant.get(agreement.tenantId);
    if (list) list.push(agreement);
    else agreementsOfTenant.set(agreement.tenantId, [agreement]);
  }

  return { tenants, tenantLineage, personTags, groupsOfPerson, agreementsOfTenant };
}

export function tagsOfPerson(index: DirectoryIndex, personId: string): ReadonlySet<string> {
  return index.personTags.get(personId) ?? noTags;
}

export function groupsOfPerson(index: DirectoryIndex, personId: string): ReadonlySet<string> {
  return index.groupsOfPerson.get(personId) ?? noGroups;
}

export function agreementsOfTenant(index: DirectoryIndex, tenantId: string): readonly PsaAgreement[] {
  return index.agreementsOfTenant.get(tenantId) ?? noAgreements;
}

export function lineageOfTenant(index: DirectoryIndex, tenantId: string): readonly string[] {
  return index.tenantLineage.get(tenantId) ?? [tenantId];
}

/** Inside its dates: start inclusive, end exclusive, no end means open. */
export function isActiveAt(period: { startsAt: number; endsAt: number | null }, now: number): boolean {
  return period.startsAt <= now && (period.endsAt === null || now < period.endsAt);
}
