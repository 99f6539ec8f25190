// The command the bench sends its agents: a small script, as a session's detection step would send.
import type { AgentCommandRequested } from '@converge/contracts';
import type { FleetAgent } from './bench-messages.ts';

export function benchCommand(agent: FleetAgent, commandId: string, now: Date): AgentCommandRequested {
  return {
    commandId,
    agentId: agent.agentId,
    tenantId: agent.tenantId,
    sessionId: `bench-session-${commandId}`,
    actionId: 'bench-action',
    language: 'bash',
    context: 'system',
    body: 'echo ok',
    parameters: {},
    timeoutSeconds: 60,
    requestedAt: now.toISOString(),
  };
}
