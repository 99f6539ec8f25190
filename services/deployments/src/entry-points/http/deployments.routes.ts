import type { Router } from 'express';
import { principalOf } from '@converge/http';
import type { DeploymentInput, DeploymentUseCases } from '../../use-cases/deployments.ts';
import type { ResolutionUseCases } from '../../use-cases/resolution.ts';
import { presentDeployment } from './catalog.presenters.ts';
import {
  bodyVersion,
  pageRequestOf,
  pathId,
  queryInteger,
  queryText,
  versionQuery,
} from './request-parsing.ts';

/** Deployments and the reverse question "on which computers does this deployment win?". */
export function deploymentsRouter(deployments: DeploymentUseCases, resolution: ResolutionUseCases) {
  return (router: Router): void => {
    router.get('/deployments', async (req, res) => {
      const maintenanceItemId = queryText(req, 'maintenanceItemId');
      const tenantId = queryText(req, 'tenantId');
      const page = await deployments.list(principalOf(res), pageRequestOf(req), {
        ...(maintenanceItemId === undefined ? {} : { maintenanceItemId }),
        ...(tenantId === undefined ? {} : { tenantId }),
      });
      res.json({ items: page.items.map(presentDeployment), nextCursor: page.nextCursor });
    });
    router.post('/deployments', async (req, res) => {
      const doc = await deployments.create(principalOf(res), req.body as DeploymentInput);
      res.status(201).json(presentDeployment(doc));
    });
    router.get('/deployments/:id', async (req, res) => {
      res.json(presentDeployment(await deployments.get(principalOf(res), pathId(req))));
    });
    router.put('/deployments/:id', async (req, res) => {
      const input = req.body as DeploymentInput & { version?: number };
      const doc = await deployments.update(principalOf(res), pathId(req), bodyVersion(input), input);
      res.json(presentDeployment(doc));
    });
    router.delete('/deployments/:id', async (req, res) => {
      await deployments.delete(principalOf(res), pathId(req), versionQuery(req));
      res.status(204).end();
    });
    router.get('/deployments/:id/winning-computers', async (req, res) => {
      const cursor = queryText(req, 'cursor');
      const page = await resolution.winningComputers(
        principalOf(res),
        pathId(req),
        { limit: queryInteger(req, 'limit') ?? 50, ...(cursor === undefined ? {} : { cursor }) },
        Date.now(),
      );
      res.json(page);
    });
  };
}
