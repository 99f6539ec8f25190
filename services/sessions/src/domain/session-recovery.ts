import { finalSessionStatuses } from './maintenance-session.ts';
import type { AgentCommand, MaintenanceSession, SessionTransition } from './maintenance-session.ts';
import { runScript } from './session-work.ts';

/**
 * What a session's last write may not have sent, rebuilt from the session alone: its owner died after storing a
 * batch and before sending what the batch produced (docs/architecture.md §9). Every command still waiting for
 * its result is sent again under its id (an agent runs a command id once, and answers again with the stored
 * result of one it finished), a command the session stopped waiting for is cancelled again, and the session's
 * status and every action are published as they are now, at the session's version (consumers keep the newest).
 * Log lines are stored before the batch that logged them, so none needs sending for the record.
 */
export function resendAfterCrash(session: MaintenanceSession): SessionTransition {
  const commands: AgentCommand[] = [];
  const final = finalSessionStatuses.includes(session.status);
  for (const action of session.actions) {
    for (const command of action.commands) {
      if (command.state === 'in-flight' && !final) {
        commands.push(runScript(session.agentId, action, command.id, command.step, command.scriptId));
      } else if (command.state === 'abandoned' && command.outcome !== 'completed') {
        commands.push({ type: 'cancel-command', commandId: command.id, agentId: session.agentId });
      }
    }
  }
  return {
    session,
    commands,
    events: [
      ...session.actions.map((action) => ({
        type: 'action-updated' as const,
        sessionId: session.id,
        version: session.version,
        actionId: action.id,
        actionType: action.type,
        status: action.status,
        result: action.result,
        reason: action.reason,
        detected: action.detected,
        desired: action.desired,
      })),
      {
        type: 'session-updated' as const,
        sessionId: session.id,
        version: session.version,
        status: session.status,
        previousStatus: null,
        stage: session.stage,
        reason: session.reason,
      },
    ],
  };
}
