import type { Bus, OwnedSubscription } from '@converge/bus';
import type { AgentEventRouting } from '../../use-cases/agent-event-routing.ts';

/**
 * The gateway's agent events, keyed by agent id, re-keyed by identity key for the owners of computers. Consumed
 * as owner of the agent partitions: the router remembers, per partition, where each agent's last report went.
 */
export function routeAgentEvents(
  bus: Bus,
  routing: AgentEventRouting,
  opts: { groupId: string; topic: string; concurrency: number },
): Promise<OwnedSubscription> {
  return bus.subscribeOwned({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: true,
    partitionsConsumedConcurrently: opts.concurrency,
    takeOver: () => Promise.resolve(),
    release: routing.release,
    handleBatch: routing.route,
  });
}
