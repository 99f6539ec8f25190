import type { Bus, OwnedSubscription } from '@converge/bus';
import type { IdentificationOwner } from '../../use-cases/identification-owner.ts';

/** What changes computers, keyed by identity key: each partition's batches go to its owner, one at a time. */
export async function consumeIdentificationInputs(
  bus: Bus,
  owner: IdentificationOwner,
  opts: { groupId: string; topic: string; concurrency: number },
): Promise<OwnedSubscription> {
  return bus.subscribeOwned({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: true,
    partitionsConsumedConcurrently: opts.concurrency,
    takeOver: owner.takeOver,
    release: owner.release,
    handleBatch: async (partition, events) => {
      await owner.handleBatch(partition, events);
    },
  });
}
