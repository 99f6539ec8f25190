import { randomUUID } from 'node:crypto';
import { NotFoundError } from '@converge/errors';
import type { TenantScope } from '@converge/store';
import { applyManualDecision, type TechnicianChoice } from '../domain/manual-decision.ts';
import type { ComputerDocument } from '../data-access/computer.schema.ts';
import { domainComputer, stateFrom, stateOf, writeComputer } from './computer-writer.ts';
import type { IdentityDeps } from './identity-deps.ts';

export interface DecisionResult {
  outcome: TechnicianChoice['kind'];
  computerId: string;
  deletedComputerId: string | null;
}

/**
 * Applies a technician's answer to a pending decision (by agent id). `authorizeIn` refuses a tenant the
 * technician may not manage computers in: the agent's tenant, and the tenant of a computer the choice changes.
 */
export async function decidePending(
  deps: IdentityDeps,
  scope: TenantScope,
  agentId: string,
  choice: TechnicianChoice,
  authorizeIn: (tenantId: string) => void,
): Promise<DecisionResult> {
  const pending = await deps.pending.getById(scope, agentId);
  authorizeIn(pending.tenantId);
  const request = deps.pending.toRequest(pending);
  const candidates: ComputerDocument[] = [];
  for (const candidate of request.candidates) {
    const doc = await deps.computers.findAnyById(candidate.computerId);
    if (doc !== null && doc.deletedAt === null) candidates.push(doc);
  }
  const outcome = applyManualDecision({
    request,
    candidates: candidates.map(domainComputer),
    choice,
    policy: deps.policy,
    onboardingEnabledForTenant: await deps.directory.onboardingEnabled(request.facts.tenantId),
    newComputerId: randomUUID(),
  });
  const now = deps.clock();
  const agent = request.facts.agentId;
  const identified = { agentId: agent, matchedBy: 'manual-decision' as const };
  let deletedComputerId: string | null = null;
  if (outcome.kind === 'overwrite-existing') {
    const current = candidates.find((doc) => doc._id === outcome.computer.id);
    if (current === undefined) throw new NotFoundError('computer not found');
    authorizeIn(current.tenantId);
    await writeComputer(deps, {
      current,
      next: stateFrom(outcome.computer, current, now),
      identified,
      history: [{ event: 'agent-replaced', agentId: agent, detail: outcome.replacedAgentId }],
    });
  } else {
    if (outcome.kind === 'delete-existing') {
      const existing = candidates.find((doc) => doc._id === outcome.deletedComputerId);
      if (existing === undefined) throw new NotFoundError('computer not found');
      authorizeIn(existing.tenantId);
      // Deleted first: the newcomer takes over the identity key the deleted computer lets go of.
      await writeComputer(deps, {
        current: existing,
        next: { ...stateOf(existing), deletedAt: now },
        history: [{ event: 'deleted', agentId: agent, detail: 'replaced by a manual decision' }],
      });
      deletedComputerId = existing._id;
    }
    await writeComputer(deps, {
      current: null,
      next: stateFrom(outcome.computer, null, now),
      identified,
      history: [{ event: 'created', agentId: agent, detail: `manual decision: ${outcome.kind}` }],
    });
  }
  await deps.pending.resolve(agent, request.facts.version);
  return { outcome: outcome.kind, computerId: outcome.computer.id, deletedComputerId };
}
