import type { MaintenanceAction, SessionStatus } from './maintenance-session.ts';

/**
 * The session's status once every action has finished. Actions for ignored software state no wish, so they
 * do not count. Passed: every counted action succeeded (or there was none). Partially passed: some
 * succeeded, some did not (failed, indeterminable or cancelled on the agent). Failed: none succeeded.
 */
export function finishedSessionStatus(actions: readonly MaintenanceAction[]): SessionStatus {
  let succeeded = 0;
  let counted = 0;
  for (const action of actions) {
    if (action.item.kind === 'software' && action.item.desiredState.state === 'ignored') continue;
    counted++;
    if (action.result === 'success') succeeded++;
  }
  if (succeeded === counted) return 'passed';
  return succeeded > 0 ? 'partially-passed' : 'failed';
}
