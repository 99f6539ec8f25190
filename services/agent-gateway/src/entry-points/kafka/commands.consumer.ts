import { isEvent, type Bus, type SubscribeOptions, type Subscription } from '@converge/bus';
import { agentCommandCancelRequested, agentCommandRequested, topics } from '@converge/contracts';
import type { CommandRouter } from '../../routing/command-router.ts';

/**
 * How the gateway consumes commands, tuned for Kafka-to-socket latency: offsets are committed in the
 * background once a second rather than after every fetched batch (a commit round trip per batch held up the
 * next fetch), which a redelivery makes safe: agents run a command id at most once. A fetch brings at most
 * 64 KiB of each partition, about a hundred commands: a replica that fell behind (the first seconds of a
 * flood, on code not yet optimised) otherwise fetched thousands at once and wrote them in one turn of the
 * event loop, 0.9 s in which no result was read and no timer ran, and which kept the whole fetch alive
 * through the young-generation collections meanwhile (bench:gateway, 5,000 commands/s).
 */
export const commandConsumerTuning = {
  commitIntervalMs: 1_000,
  maxBytesPerPartition: 64 * 1024,
} satisfies Partial<SubscribeOptions>;

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
    // A partition with no committed offset yet would otherwise start at its end when it moves to another
    // replica, past the commands sent while it moved; old commands read from the beginning expire unrun.
    fromBeginning: true,
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
