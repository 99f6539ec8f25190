import { scriptContentHash } from '@converge/contracts';
import type { SessionSummary, StoredSession } from '../../data-access/session.repository.ts';
import { maxLogLinesPerAction } from '../../domain/session-work.ts';

/** A session in a list: what the document holds beside the state machine's state. */
export function sessionSummaryView(doc: SessionSummary) {
  return {
    id: doc._id,
    tenantId: doc.tenantId,
    computerId: doc.computerId,
    agentId: doc.agentId,
    kind: doc.kind,
    trigger: doc.trigger,
    status: doc.status,
    stage: doc.stage,
    scheduleId: doc.scheduleId,
    maintenanceItemId: doc.maintenanceItemId,
    createdAt: doc.createdAt.toISOString(),
    finishedAt: doc.finishedAt === null ? null : doc.finishedAt.toISOString(),
  };
}

/**
 * A session with its actions, the steps they ran and their kept log lines. Parameters (secrets among them) and
 * script ids stay inside the service; each step names the version of the script it ran by its content hash.
 */
export function sessionView(stored: StoredSession, logs: ReadonlyMap<string, string[]>) {
  const { doc, session, plan } = stored;
  const scriptHash = (scriptId: string) => {
    const script = plan?.scripts[scriptId];
    return script === undefined ? null : scriptContentHash(script.body);
  };
  return {
    ...sessionSummaryView(doc),
    reason: session.reason,
    version: session.version,
    actions: session.actions.map((action) => ({
      id: action.id,
      name: action.item.name,
      kind: action.item.kind,
      type: action.type,
      status: action.status,
      result: action.result,
      reason: action.reason,
      detected: action.detected,
      desired: action.desired,
      steps: action.commands.map((command) => ({
        step: command.step,
        state: command.state,
        outcome: command.outcome,
        exitCode: command.exitCode,
        scriptHash: scriptHash(command.scriptId),
      })),
      log: logs.get(action.id) ?? [],
      droppedLogLines: Math.max(0, action.logLines - maxLogLinesPerAction),
    })),
  };
}
