// A deterministic synthetic MSP estate for benchmarks: the same seed always builds the same estate.
import type {
  Catalog,
  Computer,
  Deployment,
  DesiredState,
  DeviceFilter,
  DeviceType,
  Directory,
  EntraGroup,
  Person,
  PsaAgreement,
  Software,
  Target,
  Tenant,
} from '../src/domain/types.ts';
import { seededRandom } from '@converge/testing';

export interface SyntheticEstateSize {
  computers: number;
  tenants: number;
  deployments: number;
  software: number;
  tasks: number;
}

export interface SyntheticEstate {
  directory: Directory;
  catalog: Catalog;
  deployments: Deployment[];
  computers: Computer[];
}

const day = 86_400_000;
export const benchNow = 20_000 * day;

export function buildSyntheticEstate(size: SyntheticEstateSize, seed = 42): SyntheticEstate {
  const random = seededRandom(seed);
  const int = (below: number) => Math.floor(random() * below);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const tags = Array.from({ length: 50 }, (_, index) => `tag-${index}`);
  const someTags = (chance: number) => tags.filter(() => random() < chance);

  // A quarter of tenants are children (sites, subsidiaries) of an earlier tenant.
  const tenants: Tenant[] = Array.from({ length: size.tenants }, (_, index) => ({
    id: `tenant-${index}`,
    parentTenantId: index > 10 && random() < 0.25 ? `tenant-${int(index)}` : null,
    tags: someTags(0.02),
    excludedFromCrossTenantDeployments: random() < 0.02,
  }));

  const peoplePerTenant = Math.max(1, Math.round((size.computers * 0.8) / size.tenants));
  const people: Person[] = [];
  for (const tenant of tenants) {
    for (let index = 0; index < peoplePerTenant; index++) {
      people.push({ id: `${tenant.id}-person-${index}`, tenantId: tenant.id, tags: someTags(0.01) });
    }
  }

  // Each tenant: an "all staff" group nesting two department groups.
  const entraGroups: EntraGroup[] = [];
  for (const tenant of tenants) {
    const members = Array.from({ length: peoplePerTenant }, (_, index) => `${tenant.id}-person-${index}`);
    const half = Math.ceil(members.length / 2);
    entraGroups.push(
      {
        id: `${tenant.id}-staff`,
        tenantId: tenant.id,
        memberPersonIds: [],
        memberGroupIds: [`${tenant.id}-a`, `${tenant.id}-b`],
      },
      {
        id: `${tenant.id}-a`,
        tenantId: tenant.id,
        memberPersonIds: members.slice(0, half),
        memberGroupIds: [],
      },
      { id: `${tenant.id}-b`, tenantId: tenant.id, memberPersonIds: members.slice(half), memberGroupIds: [] },
    );
  }

  const agreementTypes = ['managed', 'security', 'backup', 'break-fix'];
  const products = Array.from({ length: 20 }, (_, index) => `product-${index}`);
  const psaAgreements: PsaAgreement[] = tenants.flatMap((tenant, index) =>
    random() < 0.8
      ? [
          {
            id: `agreement-${index}`,
            tenantId: tenant.id,
            agreementTypeId: pick(agreementTypes),
            startsAt: benchNow - int(1000) * day,
            endsAt: random() < 0.1 ? benchNow - int(100) * day : null,
            additions: products
              .filter(() => random() < 0.15)
              .map((productId) => ({
                productId,
                startsAt: benchNow - int(500) * day,
                endsAt: random() < 0.1 ? benchNow : null,
              })),
          },
        ]
      : [],
  );

  // Software i may need up to two software with a higher index, so chains stay acyclic and run a few deep.
  const software: Software[] = Array.from({ length: size.software }, (_, index) => {
    const needs = [index + 1 + int(10), index + 1 + int(30)].filter(
      (next) => next < size.software && random() < 0.3,
    );
    return {
      id: `software-${String(index).padStart(4, '0')}`,
      name: `Software ${index}`,
      prerequisites: needs.map((next) => {
        const id = `software-${String(next).padStart(4, '0')}`;
        return {
          condition: { when: 'not-installed', match: 'any-of', softwareIds: [id] },
          action: { kind: 'install', softwareIds: [id] },
        } as const;
      }),
    };
  });
  const maintenanceTasks = Array.from({ length: size.tasks }, (_, index) => ({
    id: `task-${index}`,
    name: `Task ${index}`,
  }));

  const deviceTypes: DeviceType[] = [
    'workstation',
    'workstation',
    'workstation',
    'portable',
    'portable',
    'server',
    'domain-controller',
  ];
  const computers: Computer[] = Array.from({ length: size.computers }, (_, index) => {
    const tenant = pick(tenants);
    const tenantPeople = `${tenant.id}-person-`;
    const primary = random() < 0.85 ? `${tenantPeople}${int(peoplePerTenant)}` : null;
    const deviceType = pick(deviceTypes);
    return {
      id: `computer-${index}`,
      tenantId: tenant.id,
      deviceType,
      isPrimaryDomainController: deviceType === 'domain-controller' && random() < 0.5,
      tags: someTags(0.03),
      primaryPersonId: primary,
      personIds:
        primary === null
          ? []
          : [primary, ...(random() < 0.3 ? [`${tenantPeople}${int(peoplePerTenant)}`] : [])],
      excludedFromMaintenance: random() < 0.01,
    };
  });

  const softwareStates: DesiredState[] = [
    { state: 'installed-latest' },
    { state: 'installed-latest' },
    { state: 'installed-any' },
    { state: 'installed-version', version: '1.2.3' },
    { state: 'update-if-found' },
    { state: 'uninstalled' },
    { state: 'ignored' },
  ];
  const taskStates: DesiredState[] = [
    { state: 'enforced' },
    { state: 'audited' },
    { state: 'monitored' },
    { state: 'ignored' },
  ];
  const filters: DeviceFilter[] = [
    'all',
    'all',
    'all',
    'workstations',
    'servers',
    'workstations-and-portable-devices',
    'domain-controllers',
  ];
  const target = (): Target => {
    const roll = random();
    if (roll < 0.08) return { kind: 'all-computers' };
    if (roll < 0.38)
      return { kind: 'tenant', tenantId: pick(tenants).id, includeChildTenants: random() < 0.5 };
    if (roll < 0.53) return { kind: 'computer', computerId: pick(computers).id };
    if (roll < 0.63) return { kind: 'person', personId: pick(people).id };
    if (roll < 0.73) return { kind: 'entra-group', groupId: pick(entraGroups).id };
    if (roll < 0.88)
      return { kind: 'tag', tag: pick(tags), tenantId: random() < 0.3 ? pick(tenants).id : null };
    if (roll < 0.94) return { kind: 'psa-agreement', agreementTypeId: pick(agreementTypes) };
    return { kind: 'psa-product', productId: pick(products) };
  };
  const deployments: Deployment[] = Array.from({ length: size.deployments }, (_, index) => {
    const isTask = random() < 0.2;
    return {
      id: `deployment-${String(index).padStart(5, '0')}`,
      enabled: random() < 0.95,
      maintenanceItem: isTask
        ? { kind: 'maintenance-task', id: pick(maintenanceTasks).id }
        : { kind: 'software', id: pick(software).id },
      target: target(),
      deviceFilter: pick(filters),
      desiredState: pick(isTask ? taskStates : softwareStates),
      enforcement: random() < 0.9 ? 'required' : random() < 0.5 ? 'onboarding' : 'ad-hoc',
      priority: random() < 0.1 ? int(10) : 0,
    };
  });

  return {
    directory: { tenants, people, entraGroups, psaAgreements },
    catalog: { software, maintenanceTasks },
    deployments,
    computers,
  };
}
