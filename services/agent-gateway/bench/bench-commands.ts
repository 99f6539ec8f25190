// The command the bench sends its agents: a small script, as a session's detection step would send.
import { createCommandIds, type AgentCommandRequested } from '@converge/contracts';
import { testKeys } from '@converge/testing';
import type { FleetAgent } from './bench-messages.ts';

// Issued as the sessions service issues them, with the key the bench's gateway was started with.
const commandIds = createCommandIds(testKeys.commandId);

export function benchCommand(agent: FleetAgent, ref: string, now: Date): AgentCommandRequested {
  const sessionId = `bench-session-${ref}`;
  return {
    commandId: commandIds.issue(agent.agentId, sessionId, ref),
    agentId: agent.agentId,
    tenantId: agent.tenantId,
    sessionId,
    actionId: 'bench-action',
    language: 'bash',
    context: 'system',
    body: 'echo ok',
    parameters: {},
    timeoutSeconds: 60,
    requestedAt: now.toISOString(),
  };
}
