import { authorize, tenantScopeOf } from '@converge/access';
import type { Principal } from '@converge/auth';
import { ConflictError, ValidationError } from '@converge/errors';
import { allTenants, asTenantId } from '@converge/store';
import type { ComputerDocument, ComputerRepository } from '../data-access/computer.repository.ts';
import type { SessionRepository, StoredSession } from '../data-access/session.repository.ts';
import {
  finalSessionStatuses,
  type SessionKind,
  type SessionTrigger,
} from '../domain/maintenance-session.ts';
import type { SessionOrchestrator } from './session-orchestrator.ts';

export interface TriggerDeps {
  sessions: SessionRepository;
  computers: ComputerRepository;
  orchestrator: SessionOrchestrator;
}

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
  for (const computer of computers) {
    const agent = sessionAgentOf(computer);
    if ('reason' in agent) {
      outcome.skipped.push({ computerId: computer._id, reason: agent.reason });
      continue;
    }
    const session = await deps.orchestrator.start({
      tenantId: computer.tenantId,
      computerId: computer._id,
      agentId: agent.agentId,
      kind: request.kind,
      trigger: triggerOf(principal),
      maintenanceItemId: request.maintenanceItemId ?? null,
    });
    if (session !== null) outcome.started.push({ sessionId: session.id, computerId: computer._id });
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

/** Cancels a session that has not finished; a finished one cannot be cancelled (409). */
export async function cancelSession(
  deps: TriggerDeps,
  principal: Principal,
  sessionId: string,
): Promise<StoredSession> {
  const stored = await sessionToChange(deps, principal, sessionId);
  if (finalSessionStatuses.includes(stored.session.status)) {
    throw new ConflictError(`the session is ${stored.session.status} already`);
  }
  const who = principal.name ?? principal.subject;
  await deps.orchestrator.apply(sessionId, { type: 'cancel-requested', reason: `cancelled by ${who}` });
  return deps.sessions.get(allTenants, sessionId);
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
