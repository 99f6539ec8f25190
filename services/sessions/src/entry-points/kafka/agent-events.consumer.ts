import { agentConnected, agentDisconnected } from '@converge/contracts';
import { isEvent, type Bus, type ReceivedEvent, type Subscription } from '@converge/bus';
import type { AgentConnectionRepository } from '../../data-access/agent-connection.repository.ts';
import type { SessionRepository } from '../../data-access/session.repository.ts';
import type { SessionOrchestrator } from '../../use-cases/session-orchestrator.ts';

/**
 * An agent's connection decides whether its sessions wait: a disconnect puts its running sessions in
 * pending connectivity, a connect resumes those waiting (re-sending their commands under the same ids).
 * Both are no-ops for sessions already in the resulting state, so redelivery changes nothing; an event about
 * a connection older than the latest known one (a late disconnect after a reconnect) is ignored.
 */
export function handleAgentEvent(
  sessions: SessionRepository,
  connections: AgentConnectionRepository,
  orchestrator: SessionOrchestrator,
) {
  return async (event: ReceivedEvent): Promise<void> => {
    if (isEvent(event, agentConnected)) {
      if (!(await connections.record(event.data.agentId, event.data.epoch, true))) return;
      for (const id of await sessions.ofAgent(event.data.agentId, ['pending-connectivity'])) {
        await orchestrator.apply(id, { type: 'agent-connected' });
      }
    } else if (isEvent(event, agentDisconnected)) {
      if (!(await connections.record(event.data.agentId, event.data.epoch, false))) return;
      for (const id of await sessions.ofAgent(event.data.agentId, ['running'])) {
        await orchestrator.apply(id, { type: 'agent-offline' });
      }
    }
  };
}

export function consumeAgentEvents(
  bus: Bus,
  sessions: SessionRepository,
  connections: AgentConnectionRepository,
  orchestrator: SessionOrchestrator,
  opts: { groupId: string; topic: string },
): Promise<Subscription> {
  return bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    // Only what happens from now on matters: a session created later asks its agent afresh.
    fromBeginning: false,
    handle: handleAgentEvent(sessions, connections, orchestrator),
  });
}
