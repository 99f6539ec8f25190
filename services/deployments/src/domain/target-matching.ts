import {
  agreementsOfTenant,
  groupsOfPerson,
  isActiveAt,
  lineageOfTenant,
  tagsOfPerson,
  type DirectoryIndex,
} from './directory-index.ts';
import type { Computer, DeviceFilter, PsaAgreement, Target } from './types.ts';

interface Period {
  startsAt: number;
  endsAt: number | null;
}

/**
 * Whether a target reaches a computer. `psa-inactive` means the computer's tenant has the agreement or
 * product but not today (outside its dates), which explanations report apart from a plain miss.
 */
export type TargetMatch = 'matched' | 'not-matched' | 'psa-inactive';

export type Scope = 'individual' | 'single-tenant' | 'cross-tenant';

export function scopeOf(target: Target): Scope {
  switch (target.kind) {
    case 'computer':
    case 'person':
      return 'individual';
    case 'tenant':
    case 'entra-group':
      return 'single-tenant';
    case 'tag':
      return target.tenantId === null ? 'cross-tenant' : 'single-tenant';
    case 'all-computers':
    case 'psa-agreement':
    case 'psa-product':
      return 'cross-tenant';
  }
}

/**
 * A tenant target that propagates to child tenants reaches every tenant below its tenant, including those
 * added after the deployment was made: managing it takes rights over that whole subtree.
 */
export function includesChildTenants(target: Target): boolean {
  return target.kind === 'tenant' && target.includeChildTenants;
}

/** The people whose targets reach a computer: its primary person and everyone using it. */
export function peopleOf(computer: Computer): readonly string[] {
  const primary = computer.primaryPersonId;
  if (primary === null || computer.personIds.includes(primary)) return computer.personIds;
  return [primary, ...computer.personIds];
}

export function matchTarget(
  computer: Computer,
  target: Target,
  directory: DirectoryIndex,
  now: number,
): TargetMatch {
  switch (target.kind) {
    case 'all-computers':
      return 'matched';
    case 'tenant':
      if (target.includeChildTenants) {
        return lineageOfTenant(directory, computer.tenantId).includes(target.tenantId)
          ? 'matched'
          : 'not-matched';
      }
      return computer.tenantId === target.tenantId ? 'matched' : 'not-matched';
    case 'computer':
      return computer.id === target.computerId ? 'matched' : 'not-matched';
    case 'person':
      return peopleOf(computer).includes(target.personId) ? 'matched' : 'not-matched';
    case 'entra-group':
      return peopleOf(computer).some((personId) => groupsOfPerson(directory, personId).has(target.groupId))
        ? 'matched'
        : 'not-matched';
    case 'tag':
      if (target.tenantId !== null && computer.tenantId !== target.tenantId) return 'not-matched';
      return hasTag(computer, target.tag, directory) ? 'matched' : 'not-matched';
    case 'psa-agreement':
      return psaMatch(computer, directory, now, (agreement) =>
        agreement.agreementTypeId === target.agreementTypeId ? [agreement] : [],
      );
    case 'psa-product':
      return psaMatch(computer, directory, now, (agreement) =>
        agreement.additions
          .filter((addition) => addition.productId === target.productId)
          // A product counts only while both the addition and the agreement carrying it are in force.
          .map((addition) => ({
            startsAt: Math.max(addition.startsAt, agreement.startsAt),
            endsAt: earlierEnd(addition.endsAt, agreement.endsAt),
          })),
      );
  }
}

/** A tag reaches the computer itself, every computer of a tagged tenant, and computers of a tagged primary person. */
function hasTag(computer: Computer, tag: string, directory: DirectoryIndex): boolean {
  if (computer.tags.includes(tag)) return true;
  if (directory.tenants.get(computer.tenantId)?.tags.includes(tag)) return true;
  return computer.primaryPersonId !== null && tagsOfPerson(directory, computer.primaryPersonId).has(tag);
}

function psaMatch(
  computer: Computer,
  directory: DirectoryIndex,
  now: number,
  periods: (agreement: PsaAgreement) => readonly Period[],
): TargetMatch {
  let found = false;
  for (const agreement of agreementsOfTenant(directory, computer.tenantId)) {
    for (const period of periods(agreement)) {
      if (isActiveAt(period, now)) return 'matched';
      found = true;
    }
  }
  return found ? 'psa-inactive' : 'not-matched';
}

function earlierEnd(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

export function matchesDeviceFilter(computer: Computer, filter: DeviceFilter): boolean {
  switch (filter) {
    case 'all':
      return true;
    // A domain controller is a server, so server deployments reach it too.
    case 'servers':
      return computer.deviceType === 'server' || computer.deviceType === 'domain-controller';
    case 'workstations':
      return computer.deviceType === 'workstation';
    case 'portable-devices':
      return computer.deviceType === 'portable';
    case 'workstations-and-portable-devices':
      return computer.deviceType === 'workstation' || computer.deviceType === 'portable';
    case 'domain-controllers':
      return computer.deviceType === 'domain-controller';
    case 'primary-domain-controllers':
      return computer.deviceType === 'domain-controller' && computer.isPrimaryDomainController;
  }
}
