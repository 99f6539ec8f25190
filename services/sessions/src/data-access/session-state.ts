import type {
  ActionStep,
  CommandRecord,
  MaintenanceAction,
  MaintenanceSession,
} from '../domain/maintenance-session.ts';
import type { SessionPlan } from '../domain/session-plan.ts';
import { commandId } from '../domain/session-work.ts';

/*
 * The session as its document's `state` text. Rewritten with every batch that changes the session, so it is kept
 * small: actions without their items (the plan holds them once for every session that runs it), and commands as
 * arrays without the id the state machine derives from the session, action and step.
 */

/** [step, state, sentAt, deadlineAt, outcome, exitCode, lastLine, lastChunkSeq, scriptId, id when not derived] */
type StoredCommand = [
  ActionStep,
  CommandRecord['state'],
  number,
  number,
  CommandRecord['outcome'],
  number | null,
  string | null,
  number,
  string,
  string?,
];
type StoredAction = Omit<MaintenanceAction, 'item' | 'commands'> & { commands: StoredCommand[] };
type StoredState = Omit<MaintenanceSession, 'actions'> & { actions: StoredAction[] };

function storedCommand(sessionId: string, actionId: string, command: CommandRecord): StoredCommand {
  const stored: StoredCommand = [
    command.step,
    command.state,
    command.sentAt,
    command.deadlineAt,
    command.outcome,
    command.exitCode,
    command.lastLine,
    command.lastChunkSeq,
    command.scriptId,
  ];
  if (command.id !== commandId(sessionId, actionId, command.step)) stored.push(command.id);
  return stored;
}

function commandOf(sessionId: string, actionId: string, stored: StoredCommand): CommandRecord {
  const [step, state, sentAt, deadlineAt, outcome, exitCode, lastLine, lastChunkSeq, scriptId, id] = stored;
  return {
    id: id ?? commandId(sessionId, actionId, step),
    step,
    scriptId,
    state,
    sentAt,
    deadlineAt,
    outcome,
    exitCode,
    lastLine,
    lastChunkSeq,
  };
}

export function encodeState(session: MaintenanceSession): string {
  const stored: StoredState = {
    ...session,
    actions: session.actions.map(({ item: _item, commands, ...action }) => ({
      ...action,
      commands: commands.map((command) => storedCommand(session.id, action.id, command)),
    })),
  };
  return JSON.stringify(stored);
}

/** The session from its `state` text and its plan (actions are made from the plan's items, in order). */
export function decodeState(state: string, plan: SessionPlan | undefined): MaintenanceSession {
  const stored = JSON.parse(state) as StoredState;
  const actions = stored.actions.map((action, index): MaintenanceAction => {
    const item = plan?.items[index];
    if (item === undefined) throw new Error(`session ${stored.id} has an action its plan does not have`);
    return {
      ...action,
      item,
      commands: action.commands.map((command) => commandOf(stored.id, action.id, command)),
    };
  });
  return { ...stored, actions };
}
