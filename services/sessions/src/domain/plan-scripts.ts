import type {
  AgentCommandCancelRequested,
  AgentCommandRequested,
  CommandIds,
  ScriptLanguage,
} from '@converge/contracts';
import type { ActionStep, AgentCommand, MaintenanceSession } from './maintenance-session.ts';

/** A script of the plan as deployments resolved it: what a command for a step sends to the agent. */
export interface PlanScript {
  scriptId: string;
  language: ScriptLanguage;
  /** Where it runs. Only `system` and `user` run on an agent; `metascript` and `cloud` are not run by agents. */
  executionContext: 'system' | 'user' | 'metascript' | 'cloud';
  body: string;
  /** One combined script serves test, set and get: it is told which through the `method` parameter. */
  methodParameter: boolean;
}

export type PlanScripts = Record<string, PlanScript>;

// The method a combined task script is told for each step that runs it.
const methods: Partial<Record<ActionStep, string>> = { test: 'test', retest: 'test', set: 'set', get: 'get' };

export type CommandMessage =
  | { kind: 'run'; data: AgentCommandRequested }
  | { kind: 'cancel'; data: AgentCommandCancelRequested }
  /** The step cannot run on an agent: the session is answered `failed-to-start` with this message. */
  | { kind: 'cannot-run'; commandId: string; message: string };

/**
 * The gateway message for one of the state machine's commands, built from the plan's scripts. The agent knows
 * the command by the id issued for it (the session's own id with its tag); a step that cannot run keeps the
 * session's id, since it is answered here.
 */
export function commandMessage(
  session: Pick<MaintenanceSession, 'id' | 'tenantId'>,
  command: AgentCommand,
  scripts: PlanScripts,
  now: Date,
  commandIds: CommandIds,
): CommandMessage {
  const ref = {
    commandId: commandIds.issue(command.agentId, session.id, command.commandId),
    agentId: command.agentId,
    tenantId: session.tenantId,
    sessionId: session.id,
    requestedAt: now.toISOString(),
  };
  if (command.type === 'cancel-command') return { kind: 'cancel', data: ref };
  const script = scripts[command.scriptId];
  if (script === undefined) {
    return {
      kind: 'cannot-run',
      commandId: command.commandId,
      message: `no ${command.step} script in the plan`,
    };
  }
  if (script.executionContext !== 'system' && script.executionContext !== 'user') {
    return {
      kind: 'cannot-run',
      commandId: command.commandId,
      message: `${script.executionContext} scripts do not run on agents`,
    };
  }
  const method = methods[command.step];
  return {
    kind: 'run',
    data: {
      ...ref,
      actionId: command.actionId,
      language: script.language,
      context: script.executionContext,
      body: script.body,
      parameters:
        script.methodParameter && method !== undefined
          ? { ...command.parameters, method }
          : command.parameters,
      ...(command.sealedParameters === undefined ? {} : { sealedParameters: command.sealedParameters }),
      timeoutSeconds: command.timeoutSeconds,
    },
  };
}
