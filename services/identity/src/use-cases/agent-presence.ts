import { ConflictError } from '@converge/errors';
import { lookupKeys } from '../data-access/computer-lookup.repository.ts';
import type { ComputerDocument } from '../data-access/computer.schema.ts';
import { stateOf, writeComputer } from './computer-writer.ts';
import type { IdentityDeps } from './identity-deps.ts';

const maxAttempts = 5;

/**
 * Records an agent's connection change and, if the agent is attached to a computer whose online state it
 * changes, writes the computer (the write reads every agent's presence, so a concurrent change is never lost:
 * whichever write comes last reads the presence both recorded). Redelivered or late events change nothing.
 */
export async function recordAgentPresence(
  deps: IdentityDeps,
  change: { agentId: string; epoch: number; online: boolean; at: Date },
): Promise<void> {
  if (!(await deps.presence.record(change.agentId, change.epoch, change.online, change.at))) return;
  for (let attempt = 1; ; attempt++) {
    const computer = await computerOfAgent(deps, change.agentId);
    if (computer === null) return;
    const online = await deps.presence.onlineAmong(computer.agents.map((agent) => agent.agentId));
    const unchanged =
      online.length === computer.onlineAgentIds.length &&
      online.every((agentId) => computer.onlineAgentIds.includes(agentId));
    if (unchanged) return;
    const state = stateOf(computer);
    // Last seen when the agent went away: staleness counts from there.
    const lastSeenAt = change.online || change.at <= state.lastSeenAt ? state.lastSeenAt : change.at;
    try {
      await writeComputer(deps, { current: computer, next: { ...state, lastSeenAt } });
      return;
    } catch (error) {
      if (attempt >= maxAttempts || !(error instanceof ConflictError)) throw error;
    }
  }
}

async function computerOfAgent(deps: IdentityDeps, agentId: string): Promise<ComputerDocument | null> {
  for (const id of await deps.lookups.computerIds(lookupKeys.agent(agentId))) {
    const doc = await deps.computers.findAnyById(id);
    if (doc !== null && doc.deletedAt === null && doc.agents.some((agent) => agent.agentId === agentId)) {
      return doc;
    }
  }
  return null;
}
