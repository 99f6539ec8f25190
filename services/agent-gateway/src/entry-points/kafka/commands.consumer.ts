import { isEvent, type Bus, type Subscription } from '@converge/bus';
import { agentCommandCancelRequested, agentCommandRequested, topics } from '@converge/contracts';
import type { CommandRouter } from '../../routing/command-router.ts';

/**
 * The replicas consume `gateway.commands` as one group: each command reaches one replica, which routes it.
 * Redelivery is safe: agents run a command id at most once. Partitions are handled in parallel, so one
 * command waiting for a forwarding acknowledgement does not hold up the others.
 */
export function subscribeCommands(
  bus: Bus,
  groupId: string,
  router: CommandRouter,
  partitions: number,
): Promise<Subscription> {
  return bus.subscribe({
    groupId,
    topics: [topics.commands],
    partitionsConsumedConcurrently: partitions,
    handle: async (event) => {
      const consumedAtMs = performance.now();
      if (isEvent(event, agentCommandRequested)) await router.route(event.data, consumedAtMs);
      else if (isEvent(event, agentCommandCancelRequested)) await router.cancel(event.data);
    },
  });
}
