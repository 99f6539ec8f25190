import type { Request, Response, Router } from 'express';
import { authorize, tenantScopeOf } from '@converge/access';
import { ValidationError } from '@converge/errors';
import { principalOf } from '@converge/http';
import type { ListRequest, TenantScope } from '@converge/store';
import type { TechnicianChoice } from '../../domain/manual-decision.ts';
import type { Accepted, ComputerRequests } from '../../use-cases/computer-requests.ts';
import type { IdentityDeps } from '../../use-cases/identity-deps.ts';
import { failureView, pendingDecisionView } from './computer-view.ts';
import { pageOf, text } from './query-params.ts';

interface DecisionBody {
  choice: TechnicianChoice['kind'];
  computerId?: string;
}

function choiceOf(body: DecisionBody): TechnicianChoice {
  if (body.choice === 'keep-both') return { kind: 'keep-both' };
  if (body.computerId === undefined) {
    throw new ValidationError(`${body.choice} needs the computer it applies to`, [
      { path: 'body.computerId', message: 'required for overwrite-existing and delete-existing' },
    ]);
  }
  return { kind: body.choice, computerId: body.computerId };
}

/** An owner's answer, or 202 with where the outcome will show when the owner has not answered in time. */
function answer(res: Response, outcome: object | Accepted): void {
  if ('accepted' in outcome) {
    res.status(202).location(outcome.location).json({ location: outcome.location });
    return;
  }
  res.json(outcome);
}

/** The New Computers queues: pending manual decisions and failed identifications. */
export function identificationRoutes(router: Router, deps: IdentityDeps, requests: ComputerRequests): void {
  const reader = (
    req: Request,
    res: Response,
  ): { scope: TenantScope; page: ListRequest<{ tenantId: string }> } => {
    const principal = principalOf(res);
    const tenantId = text(req, 'tenantId');
    authorize(principal, 'read', tenantId);
    return {
      scope: tenantScopeOf(principal),
      page: { ...pageOf(req), ...(tenantId === undefined ? {} : { filter: { tenantId } }) },
    };
  };
  const manager = (res: Response): { scope: TenantScope; authorizeIn: (tenantId: string) => void } => {
    const principal = principalOf(res);
    authorize(principal, 'manage-computers');
    return {
      scope: tenantScopeOf(principal),
      authorizeIn: (tenantId: string) => {
        authorize(principal, 'manage-computers', tenantId);
      },
    };
  };

  router.get('/identification/pending-decisions', async (req, res) => {
    const { scope, page } = reader(req, res);
    const found = await deps.pending.list(scope, page);
    res.json({ items: found.items.map(pendingDecisionView), nextCursor: found.nextCursor });
  });

  router.post('/identification/pending-decisions/:agentId', async (req, res) => {
    const { scope, authorizeIn } = manager(res);
    const choice = choiceOf(req.body as DecisionBody);
    answer(res, await requests.decide(scope, req.params.agentId, choice, authorizeIn));
  });

  router.get('/identification/failures', async (req, res) => {
    const { scope, page } = reader(req, res);
    const found = await deps.failures.list(scope, page);
    res.json({ items: found.items.map(failureView), nextCursor: found.nextCursor });
  });

  router.post('/identification/failures/retry-all', async (_req, res) => {
    const { scope } = manager(res);
    res.json(await requests.retryAll(scope));
  });

  router.post('/identification/failures/:agentId/retry', async (req, res) => {
    const { scope, authorizeIn } = manager(res);
    answer(res, await requests.retry(scope, req.params.agentId, authorizeIn));
  });
}
