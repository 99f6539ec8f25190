import { contractEvent, isEvent, type Bus, type Subscription } from '@converge/bus';
import { agentConnected, agentDisconnected, sessionAgentConnectivityChanged } from '@converge/contracts';
import type { Redis } from 'ioredis';

/**
 * An agent's connects and disconnects, routed to the owners of its open sessions: a disconnect puts a running
 * session in pending connectivity, a connect resumes one that waits (re-sending its commands under the same ids).
 * The owners keep each agent's open sessions in Redis (`agentIndexPrefix` + agent id); each owner orders the
 * changes of one session by the connection's epoch.
 */
export function routeAgentEvents(
  bus: Bus,
  redis: Redis,
  opts: { groupId: string; topic: string; agentIndexPrefix: string },
): Promise<Subscription> {
  return bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    // Only what happens from now on matters: a session created later asks its agent afresh.
    fromBeginning: false,
    handle: async (event) => {
      let change: { agentId: string; tenantId: string; epoch: number; online: boolean; at: string };
      if (isEvent(event, agentConnected)) {
        const { agentId, tenantId, epoch, connectedAt } = event.data;
        change = { agentId, tenantId, epoch, online: true, at: connectedAt };
      } else if (isEvent(event, agentDisconnected)) {
        const { agentId, tenantId, epoch, disconnectedAt } = event.data;
        change = { agentId, tenantId, epoch, online: false, at: disconnectedAt };
      } else {
        return;
      }
      const sessionIds = await redis.smembers(`${opts.agentIndexPrefix}${change.agentId}`);
      if (sessionIds.length === 0) return;
      const { tenantId, ...data } = change;
      await bus.publishAll(
        sessionIds.map((sessionId) =>
          contractEvent(sessionAgentConnectivityChanged, {
            subject: sessionId,
            tenantId,
            data: { sessionId, ...data },
          }),
        ),
      );
    },
  });
}
