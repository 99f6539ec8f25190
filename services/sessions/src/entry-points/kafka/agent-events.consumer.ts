import { agentConnected, agentDisconnected } from '@converge/contracts';
import { isEvent, type Bus, type ReceivedEvent, type Subscription } from '@converge/bus';
import type { SessionRepository } from '../../data-access/session.repository.ts';
import type { SessionOrchestrator } from '../../use-cases/session-orchestrator.ts';

/**
 * An agent's connection decides whether its sessions wait: a disconnect puts its running sessions in
 * pending connectivity, a connect resumes those waiting (re-sending their commands under the same ids).
 * Both are no-ops for sessions already in the resulting state, so redelivery changes nothing.
 */
export function handleAgentEvent(sessions: SessionRepository, orchestrator: SessionOrchestrator) {
  return async (event: ReceivedEvent): Promise<void> => {
    if (isEvent(event, agentConnected)) {
      for (const id of await sessions.ofAgent(event.data.agentId, ['pending-connectivity'])) {
        await orchestrator.apply(id, { type: 'agent-connected' });
      }
    } else if (isEvent(event, agentDisconnected)) {
      for (const id of await sessions.ofAgent(event.data.agentId, ['running'])) {
        await orchestrator.apply(id, { type: 'agent-offline' });
      }
    }
  };
}

export function consumeAgentEvents(
  bus: Bus,
  sessions: SessionRepository,
  orchestrator: SessionOrchestrator,
  opts: { groupId: string; topic: string },
): Promise<Subscription> {
  return bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    // Only what happens from now on matters: a session created later asks its agent afresh.
    fromBeginning: false,
    handle: handleAgentEvent(sessions, orchestrator),
  });
}
