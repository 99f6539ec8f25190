import type { Bus, OwnedSubscription } from '@converge/bus';
import { topics, type CommandIds } from '@converge/contracts';
import type { SessionOwner } from '../../use-cases/session-owner.ts';
import { sessionInputsOf } from './session-inputs.ts';

/**
 * The owner's two topics, co-partitioned by session id: the sessions' commands (starts, cancels, agent
 * connectivity) and the agents' results and output, so one process sees everything about a session, in order.
 */
export function ownSessions(
  bus: Bus,
  owner: SessionOwner,
  opts: { groupId: string; commandIds: CommandIds },
): Promise<OwnedSubscription> {
  return bus.subscribeOwned({
    groupId: opts.groupId,
    topics: [topics.sessionCommands, topics.commandResults],
    fromBeginning: true,
    // Every partition of a fetch at once (12 as `npm start` makes them): their batches share one group commit.
    partitionsConsumedConcurrently: 12,
    takeOver: owner.takeOver,
    release: owner.release,
    handleBatch: (partition, events) =>
      owner.handleBatch(
        partition,
        events.flatMap((event) => sessionInputsOf(event, opts.commandIds)),
      ),
  });
}
