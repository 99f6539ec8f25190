import {
  groupDeleted,
  groupUpserted,
  personDeleted,
  personUpserted,
  psaAgreementDeleted,
  psaAgreementUpserted,
  tenantDeleted,
  tenantUpserted,
  topics,
} from '@converge/contracts';
import { isEvent, type Bus, type ReceivedEvent, type Subscription } from '@converge/bus';
import type { EstateGenerationRepository } from '../../data-access/estate-generation.repository.ts';
import type { ProjectionRepository } from '../../data-access/projection.repository.ts';

const noTags: string[] = [];

/**
 * Applies one directory event to its projection row (each write is conditional on the aggregate's version, so
 * a redelivery changes nothing); true when something changed. Deletions keep a tombstone at their version.
 */
async function applyDirectoryEvent(
  event: ReceivedEvent,
  projections: ProjectionRepository,
): Promise<boolean> {
  if (isEvent(event, tenantUpserted)) {
    const tenant = event.data;
    return projections.applyTenant(
      {
        id: tenant.tenantId,
        parentTenantId: tenant.parentTenantId,
        tags: tenant.tags,
        excludedFromCrossTenantDeployments: tenant.settings.excludedFromCrossTenantDeployments,
      },
      tenant.version,
      false,
    );
  }
  if (isEvent(event, tenantDeleted)) {
    const { tenantId, version } = event.data;
    const tenant = {
      id: tenantId,
      parentTenantId: null,
      tags: noTags,
      excludedFromCrossTenantDeployments: false,
    };
    return projections.applyTenant(tenant, version, true);
  }
  if (isEvent(event, personUpserted)) {
    const person = event.data;
    return projections.applyPerson(
      { id: person.personId, tenantId: person.tenantId, tags: person.tags },
      person.version,
      false,
    );
  }
  if (isEvent(event, personDeleted)) {
    const { personId, tenantId, version } = event.data;
    return projections.applyPerson({ id: personId, tenantId, tags: noTags }, version, true);
  }
  if (isEvent(event, groupUpserted)) {
    const group = event.data;
    return projections.applyGroup(
      {
        id: group.groupId,
        tenantId: group.tenantId,
        memberPersonIds: group.memberPersonIds,
        memberGroupIds: group.memberGroupIds,
      },
      group.version,
      false,
    );
  }
  if (isEvent(event, groupDeleted)) {
    const { groupId, tenantId, version } = event.data;
    return projections.applyGroup(
      { id: groupId, tenantId, memberPersonIds: [], memberGroupIds: [] },
      version,
      true,
    );
  }
  if (isEvent(event, psaAgreementUpserted)) {
    const agreement = event.data;
    return projections.applyAgreement(
      {
        id: agreement.agreementId,
        tenantId: agreement.tenantId,
        agreementTypeId: agreement.agreementTypeId,
        startsAt: Date.parse(agreement.startsAt),
        endsAt: agreement.endsAt === null ? null : Date.parse(agreement.endsAt),
        additions: agreement.additions.map((addition) => ({
          productId: addition.productId,
          startsAt: Date.parse(addition.startsAt),
          endsAt: addition.endsAt === null ? null : Date.parse(addition.endsAt),
        })),
      },
      agreement.version,
      false,
    );
  }
  if (isEvent(event, psaAgreementDeleted)) {
    const { agreementId, tenantId, version } = event.data;
    const agreement = {
      id: agreementId,
      tenantId,
      agreementTypeId: '',
      startsAt: 0,
      endsAt: null,
      additions: [],
    };
    return projections.applyAgreement(agreement, version, true);
  }
  return false;
}

/**
 * Keeps the directory projection (tenants with their tags and cross-tenant exclusion, people, groups, PSA
 * agreements) from sync's events; each change moves the estate generation so resolution rebuilds.
 */
export function subscribeDirectoryEvents(
  bus: Bus,
  groupId: string,
  projections: ProjectionRepository,
  generation: EstateGenerationRepository,
): Promise<Subscription> {
  return bus.subscribe({
    groupId,
    topics: [topics.directoryEvents],
    fromBeginning: true,
    handle: async (event) => {
      if (await applyDirectoryEvent(event, projections)) await generation.advance();
    },
  });
}
