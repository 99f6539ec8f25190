import {
  groupDeleted,
  groupUpserted,
  personDeleted,
  personUpserted,
  psaAgreementDeleted,
  psaAgreementUpserted,
  tenantDeleted,
  tenantUpserted,
  parseEventData,
  ContractViolation,
  type EventContract,
  type TenantSettings,
} from '@converge/contracts';
import { ValidationError } from '@converge/errors';
import type { OutboxEvent } from '@converge/store';
import type { DirectMembers } from './group-membership.ts';
import type { PsaAddition } from './psa-provider.ts';

export interface TenantState {
  _id: string;
  name: string;
  slug: string;
  active: boolean;
  parentTenantId: string | null;
  isMsp: boolean;
  tags: string[];
  settings: TenantSettings;
  version: number;
  updatedAt: Date;
}

export interface PersonState {
  _id: string;
  tenantId: string;
  displayName: string;
  upn: string | null;
  email: string | null;
  entraObjectId: string | null;
  onPremisesSid: string | null;
  tags: string[];
  version: number;
  updatedAt: Date;
}

export interface GroupState extends DirectMembers {
  _id: string;
  tenantId: string;
  displayName: string;
  entraObjectId: string | null;
  memberPersonIds: string[];
  memberGroupIds: string[];
  version: number;
  updatedAt: Date;
}

export interface PsaAgreementState {
  _id: string;
  tenantId: string;
  provider: string;
  externalId: string;
  name: string;
  agreementTypeId: string;
  startsAt: Date;
  endsAt: Date | null;
  additions: PsaAddition[];
  version: number;
  updatedAt: Date;
}

/**
 * Directory events are keyed by tenant id (ARCHITECTURE.md §2), so one tenant's changes stay in order. The
 * payload is checked here, before it is stored with its change: an outbox entry the bus would refuse to
 * publish would block its document's outbox for good.
 */
function directoryEvent<T>(contract: EventContract<T>, tenantId: string, data: T): OutboxEvent {
  try {
    parseEventData(contract, data);
  } catch (error) {
    if (!(error instanceof ContractViolation)) throw error;
    throw new ValidationError(
      'the change does not fit the directory contract',
      error.issues.map((issue) => ({ path: issue.path, message: issue.message })),
    );
  }
  return { type: contract.type, topic: contract.topic, subject: tenantId, tenantId, data };
}

const iso = (date: Date) => date.toISOString();

export function tenantUpsertedEvent(tenant: TenantState): OutboxEvent {
  return directoryEvent(tenantUpserted, tenant._id, {
    tenantId: tenant._id,
    version: tenant.version,
    name: tenant.name,
    slug: tenant.slug,
    active: tenant.active,
    parentTenantId: tenant.parentTenantId,
    isMsp: tenant.isMsp,
    tags: tenant.tags,
    settings: tenant.settings,
    updatedAt: iso(tenant.updatedAt),
  });
}

export function tenantDeletedEvent(tenantId: string, version: number, at: Date): OutboxEvent {
  return directoryEvent(tenantDeleted, tenantId, { tenantId, version, deletedAt: iso(at) });
}

export function personUpsertedEvent(person: PersonState): OutboxEvent {
  return directoryEvent(personUpserted, person.tenantId, {
    tenantId: person.tenantId,
    personId: person._id,
    version: person.version,
    displayName: person.displayName,
    upn: person.upn,
    email: person.email,
    entraObjectId: person.entraObjectId,
    onPremisesSid: person.onPremisesSid,
    tags: person.tags,
    updatedAt: iso(person.updatedAt),
  });
}

export function personDeletedEvent(person: PersonState, at: Date): OutboxEvent {
  return directoryEvent(personDeleted, person.tenantId, {
    tenantId: person.tenantId,
    personId: person._id,
    version: person.version + 1,
    deletedAt: iso(at),
  });
}

export function groupUpsertedEvent(group: GroupState): OutboxEvent {
  return directoryEvent(groupUpserted, group.tenantId, {
    tenantId: group.tenantId,
    groupId: group._id,
    version: group.version,
    displayName: group.displayName,
    entraObjectId: group.entraObjectId,
    memberPersonIds: group.memberPersonIds,
    memberGroupIds: group.memberGroupIds,
    updatedAt: iso(group.updatedAt),
  });
}

export function groupDeletedEvent(group: GroupState, at: Date): OutboxEvent {
  return directoryEvent(groupDeleted, group.tenantId, {
    tenantId: group.tenantId,
    groupId: group._id,
    version: group.version + 1,
    deletedAt: iso(at),
  });
}

export function psaAgreementUpsertedEvent(agreement: PsaAgreementState): OutboxEvent {
  return directoryEvent(psaAgreementUpserted, agreement.tenantId, {
    tenantId: agreement.tenantId,
    agreementId: agreement._id,
    version: agreement.version,
    provider: agreement.provider,
    name: agreement.name,
    agreementTypeId: agreement.agreementTypeId,
    startsAt: iso(agreement.startsAt),
    endsAt: agreement.endsAt === null ? null : iso(agreement.endsAt),
    additions: agreement.additions.map((addition) => ({
      productId: addition.productId,
      name: addition.name,
      startsAt: iso(addition.startsAt),
      endsAt: addition.endsAt === null ? null : iso(addition.endsAt),
    })),
    updatedAt: iso(agreement.updatedAt),
  });
}

export function psaAgreementDeletedEvent(agreement: PsaAgreementState, at: Date): OutboxEvent {
  return directoryEvent(psaAgreementDeleted, agreement.tenantId, {
    tenantId: agreement.tenantId,
    agreementId: agreement._id,
    version: agreement.version + 1,
    deletedAt: iso(at),
  });
}
