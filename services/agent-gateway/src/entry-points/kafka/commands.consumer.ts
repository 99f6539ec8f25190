import { isEvent, type Bus, type SubscribeOptions, type Subscription } from '@converge/bus';
import { agentCommandCancelRequested, agentCommandRequested, topics } from '@converge/contracts';
import type { CommandRouter } from '../../routing/command-router.ts';

/**
 * How the gateway consumes commands, tuned for Kafka-to-socket latency: offsets are committed in the
 * background once a second rather than after every fetched batch (a commit round trip per batch held up the
 * next fetch), which a redelivery makes safe: agents run a command id at most once.
 */
export const commandConsumerTuning = { commitIntervalMs: 1_000 } satisfies Partial<SubscribeOptions>;

/**
 * The replicas consume `gateway.commands` as one group: each command reaches one replica, which routes it.
 * Partitions are handled in parallel, so one command waiting for a forwarding acknowledgement does not hold
 * up the others; a command for an agent held here is written at once, without waiting on anything.
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
    ...commandConsumerTuning,
    handle: (event) => {
      const consumedAtMs = performance.now();
      if (isEvent(event, agentCommandRequested)) return router.route(event.data, consumedAtMs);
      if (isEvent(event, agentCommandCancelRequested)) return router.cancel(event.data);
      return Promise.resolve();
    },
  });
}
