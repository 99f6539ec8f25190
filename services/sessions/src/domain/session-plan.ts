import { ValidationError } from '@converge/errors';
import type { PlannedItem } from './maintenance-session.ts';
import type { PlanScripts } from './plan-scripts.ts';
import { parseVersion } from '@converge/versions';

/** What a session runs: its items in order (each becomes an action), and the scripts their steps name by id. */
export interface SessionPlan {
  items: PlannedItem[];
  scripts: PlanScripts;
}

/** The plan from deployments breaks a rule the state machine relies on; the session cannot start from it. */
export class InvalidPlanError extends ValidationError {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(
      `invalid maintenance session plan: ${problems.join('; ')}`,
      problems.map((message) => ({ path: 'plan', message })),
    );
    this.name = 'InvalidPlanError';
    this.problems = problems;
  }
}

// The agent contract's limit on a script's run time.
const maxTimeoutSeconds = 24 * 60 * 60;

/**
 * Checks what execution order depends on: unique item ids, prerequisites that name an EARLIER item (so plan
 * order alone runs prerequisites first and a cycle cannot be expressed), sane timeouts and parseable versions.
 */
export function validatePlan(items: readonly PlannedItem[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (item.id === '') problems.push('an item has an empty id');
    if (seen.has(item.id)) problems.push(`item ${item.id} appears twice`);
    for (const prerequisite of item.prerequisites) {
      if (!seen.has(prerequisite)) {
        problems.push(`item ${item.id} needs ${prerequisite}, which is not earlier in the plan`);
      }
    }
    if (!Number.isInteger(item.timeoutSeconds) || item.timeoutSeconds < 1) {
      problems.push(
        `item ${item.id} has timeout ${item.timeoutSeconds}, not a positive whole number of seconds`,
      );
    } else if (item.timeoutSeconds > maxTimeoutSeconds) {
      problems.push(
        `item ${item.id} has timeout ${item.timeoutSeconds}, more than ${maxTimeoutSeconds} seconds`,
      );
    }
    if (item.kind === 'software' && 'version' in item.desiredState) {
      if (parseVersion(item.desiredState.version) === null) {
        problems.push(`item ${item.id} wants version '${item.desiredState.version}', which is not a version`);
      }
    }
    seen.add(item.id);
  }
  if (problems.length > 0) throw new InvalidPlanError(problems);
}
