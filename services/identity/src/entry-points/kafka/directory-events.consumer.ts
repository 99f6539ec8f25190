import { personDeleted, personUpserted, tenantDeleted, tenantUpserted } from '@converge/contracts';
import { isEvent, type Bus, type ReceivedEvent, type Subscription } from '@converge/bus';
import { refreshAffinity, type ComputerChangesDeps } from '../../use-cases/computer-changes.ts';
import type { IdentityDeps } from '../../use-cases/identity-deps.ts';

/**
 * People (for user affinity) and each tenant's onboarding setting. Every row is written only if the event's
 * version is newer than the stored one, so redelivered and reordered events change nothing; a person's change
 * asks the owners of the computers it concerns to derive their primary person again.
 */
export function handleDirectoryEvent(deps: IdentityDeps, changes: ComputerChangesDeps) {
  return async (event: ReceivedEvent): Promise<void> => {
    if (isEvent(event, tenantUpserted)) {
      const { tenantId, version, settings } = event.data;
      await deps.directory.upsertTenant(tenantId, version, settings.onboardingEnabled);
    } else if (isEvent(event, tenantDeleted)) {
      await deps.directory.deleteTenant(event.data.tenantId, event.data.version);
    } else if (isEvent(event, personUpserted) || isEvent(event, personDeleted)) {
      const deleted = isEvent(event, personDeleted);
      const upn = isEvent(event, personUpserted) ? event.data.upn : null;
      const { personId, tenantId, version } = event.data;
      const change = await deps.directory.upsertPerson({ personId, tenantId, version, upn }, deleted);
      if (change !== null) await refreshAffinity(changes, change);
    }
  };
}

export function consumeDirectoryEvents(
  bus: Bus,
  deps: IdentityDeps,
  opts: { groupId: string; topic: string },
): Promise<Subscription> {
  return bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: true,
    handle: handleDirectoryEvent(deps, { computers: deps.computers, bus, clock: deps.clock }),
  });
}
