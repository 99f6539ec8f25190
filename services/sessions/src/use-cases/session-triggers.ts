import { randomUUID } from 'node:crypto';
import { authorize, tenantScopeOf } from '@converge/access';
import type { Principal } from '@converge/auth';
import { ConflictError, ValidationError } from '@converge/errors';
import { asTenantId } from '@converge/store';
import type { ComputerDocument, ComputerRepository } from '../data-access/computer.repository.ts';
import type { SessionRepository, StoredSession } from '../data-access/session.repository.ts';
import {
  finalSessionStatuses,
  type SessionKind,
  type SessionTrigger,
} from '../domain/maintenance-session.ts';
import type { RequestOutcome } from './session-batch.ts';
import type { SessionCommands, SessionStart } from './session-commands.ts';

export interface TriggerDeps {
  sessions: SessionRepository;
  computers: ComputerRepository;
  commands: SessionCommands;
}

/** How long a request waits for the owner of a session to apply its change before answering 202. */
export const ownerAnswerTimeoutMs = 5_000;

/** Which computers "run now" is for: listed ones, one tenant's, or all the caller may see. */
export type RunTarget = { computerIds: string[] } | { tenantId: string } | { allComputers: true };

export interface RunRequest {
  target: RunTarget;
  kind: Exclude<SessionKind, 'onboarding'>;
  maintenanceItemId?: string;
}

export interface RunOutcome {
  started: { sessionId: string; computerId: string }[];
  skipped: { computerId: string; reason: string }[];
}

/** Starts sent per Kafka request: well under the broker's request size limit. */
export const startsPerSend = 1_000;

/** People sign in as users; partner integrations as OAuth clients. */
function triggerOf(principal: Principal): SessionTrigger {
  return principal.kind === 'client' ? 'api' : 'technician';
}

/** The agent a session on the computer goes through, or why the computer gets no session. */
export function sessionAgentOf(computer: ComputerDocument): { agentId: string } | { reason: string } {
  if (computer.excludedFromMaintenance) return { reason: 'excluded from maintenance' };
  if (computer.agentId === null) return { reason: 'no agent' };
  return { agentId: computer.agentId };
}

/** Starts a session per computer of the target that can have one, and says why the others got none. */
export async function runNow(
  deps: TriggerDeps,
  principal: Principal,
  request: RunRequest,
): Promise<RunOutcome> {
  if ((request.kind === 'single-item') !== (request.maintenanceItemId !== undefined)) {
    throw new ValidationError('a single-item session names its maintenance item, and only it does', [
      { path: 'body.maintenanceItemId', message: 'required exactly when kind is single-item' },
    ]);
  }
  const { target } = request;
  const scope = tenantScopeOf(principal);
  let computers: ComputerDocument[];
  if ('tenantId' in target) {
    authorize(principal, 'run-sessions', target.tenantId);
    computers = await deps.computers.maintainable(asTenantId(target.tenantId));
  } else {
    authorize(principal, 'run-sessions');
    const ids = 'computerIds' in target ? target.computerIds : undefined;
    computers = await deps.computers.maintainable(scope, ids);
  }
  const outcome: RunOutcome = { started: [], skipped: [] };
  if ('computerIds' in target) {
    const found = new Set(computers.map((computer) => computer._id));
    for (const id of target.computerIds) {
      if (!found.has(id)) outcome.skipped.push({ computerId: id, reason: 'computer not found' });
    }
  }
  const starts: SessionStart[] = [];
  for (const computer of computers) {
    const agent = sessionAgentOf(computer);
    if ('reason' in agent) {
      outcome.skipped.push({ computerId: computer._id, reason: agent.reason });
      continue;
    }
    starts.push({
      sessionId: randomUUID(),
      tenantId: computer.tenantId,
      computerId: computer._id,
      agentId: agent.agentId,
      kind: request.kind,
      trigger: triggerOf(principal),
      maintenanceItemId: request.maintenanceItemId ?? null,
      scheduleId: null,
    });
    outcome.started.push({ sessionId: starts.at(-1)?.sessionId ?? '', computerId: computer._id });
  }
  // The answer waits (a little) for the owners to create the sessions, so that they can be read at once.
  for (let from = 0; from < starts.length; from += startsPerSend) {
    await deps.commands.start(starts.slice(from, from + startsPerSend), { waitMs: ownerAnswerTimeoutMs });
  }
  return outcome;
}

async function sessionToChange(
  deps: TriggerDeps,
  principal: Principal,
  sessionId: string,
): Promise<StoredSession> {
  authorize(principal, 'run-sessions');
  const stored = await deps.sessions.get(tenantScopeOf(principal), sessionId);
  authorize(principal, 'run-sessions', stored.doc.tenantId);
  return stored;
}

/**
 * Cancels a session that has not finished; a finished one cannot be cancelled (409). The session's owner applies
 * the cancel: the outcome comes back when it did, or undefined if it did not answer in time (the cancel still
 * stands and is applied when the owner gets to it).
 */
export async function cancelSession(
  deps: TriggerDeps,
  principal: Principal,
  sessionId: string,
): Promise<RequestOutcome | undefined> {
  const stored = await sessionToChange(deps, principal, sessionId);
  const finished = (status: string) => new ConflictError(`the session is ${status} already`);
  if (finalSessionStatuses.includes(stored.session.status)) throw finished(stored.session.status);
  const who = principal.name ?? principal.subject;
  const outcome = await deps.commands.cancel(
    { sessionId, tenantId: stored.session.tenantId },
    `cancelled by ${who}`,
    ownerAnswerTimeoutMs,
  );
  if (outcome?.outcome === 'finished') throw finished(outcome.status);
  return outcome;
}

/**
 * A new session like an earlier one (same computer and kind; an onboarding session is rerun as a full one, the
 * computer being onboarded by then), or a single-item session for one of its actions' item.
 */
export async function rerun(
  deps: TriggerDeps,
  principal: Principal,
  sessionId: string,
  actionId?: string,
): Promise<RunOutcome> {
  const stored = await sessionToChange(deps, principal, sessionId);
  const { session, doc } = stored;
  if (actionId !== undefined && !session.actions.some((action) => action.id === actionId)) {
    throw new ValidationError('the session has no such action', [
      { path: 'path.actionId', message: 'unknown action' },
    ]);
  }
  const request: RunRequest =
    actionId === undefined
      ? {
          target: { computerIds: [session.computerId] },
          kind: session.kind === 'onboarding' ? 'full' : session.kind,
          ...(doc.maintenanceItemId === null ? {} : { maintenanceItemId: doc.maintenanceItemId }),
        }
      : { target: { computerIds: [session.computerId] }, kind: 'single-item', maintenanceItemId: actionId };
  return runNow(deps, principal, request);
}
