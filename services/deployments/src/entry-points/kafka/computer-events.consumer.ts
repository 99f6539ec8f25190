import { computerChanged, topics, type ComputerChanged } from '@converge/contracts';
import { applyIfNewer, isEvent, type Bus, type Subscription } from '@converge/bus';
import type { ProjectionRepository } from '../../data-access/projection.repository.ts';

/**
 * Keeps the computers projection from identity's `computerChanged` snapshots (the other computer events carry
 * nothing resolution reads). A deleted computer becomes a tombstone; an event older than the row is skipped.
 */
export function subscribeComputerEvents(
  bus: Bus,
  groupId: string,
  projections: ProjectionRepository,
): Promise<Subscription> {
  const apply = applyIfNewer<ComputerChanged>(
    async (event) => {
      const computer = event.data;
      await projections.applyComputer(
        {
          id: computer.computerId,
          tenantId: computer.tenantId,
          deviceType: computer.deviceType,
          isPrimaryDomainController: computer.isPrimaryDomainController,
          tags: computer.tags,
          primaryPersonId: computer.primaryPersonId,
          personIds: computer.personIds,
          excludedFromMaintenance: computer.excludedFromMaintenance,
        },
        computer.version,
        computer.deletedAt !== null,
      );
    },
    (computerId) => projections.computerVersion(computerId),
  );
  return bus.subscribe({
    groupId,
    topics: [topics.computerEvents],
    fromBeginning: true,
    handle: async (event) => {
      if (isEvent(event, computerChanged)) await apply(event);
    },
  });
}
