import type { TenantScope } from '@converge/store';
import { identifyFromFacts, type IdentificationOutcome } from './identify-computer.ts';
import type { IdentityDeps } from './identity-deps.ts';

/** Identifies a failed report again (after its cause, a setting or the agent, was fixed). */
export async function retryFailure(
  deps: IdentityDeps,
  scope: TenantScope,
  agentId: string,
  authorizeIn: (tenantId: string) => void,
): Promise<IdentificationOutcome> {
  const failure = await deps.failures.getById(scope, agentId);
  authorizeIn(failure.tenantId);
  return identifyFromFacts(deps, failure.facts, true);
}

export interface RetryAllResult {
  retried: number;
  outcomes: Record<IdentificationOutcome['kind'], number>;
}

/** Retries every failure in the scope, one at a time (the queue is small: failures are the exception). */
export async function retryAllFailures(deps: IdentityDeps, scope: TenantScope): Promise<RetryAllResult> {
  const outcomes: RetryAllResult['outcomes'] = {
    'no-change': 0,
    'refresh-facts': 0,
    'attach-agent': 0,
    'create-computer': 0,
    'needs-manual-decision': 0,
    failed: 0,
  };
  // Collected first: retrying rewrites the failures still failing, which must not move the cursor under us.
  const agentFacts = [];
  let cursor: string | undefined;
  do {
    const page = await deps.failures.list(scope, { limit: 200, ...(cursor === undefined ? {} : { cursor }) });
    agentFacts.push(...page.items.map((item) => item.facts));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  for (const facts of agentFacts) outcomes[(await identifyFromFacts(deps, facts, true)).kind]++;
  return { retried: agentFacts.length, outcomes };
}
