import type { Router } from 'express';
import { asTenantId, scopeIncludes } from '@converge/store';
import { NotFoundError } from '@converge/errors';
import type { AggregateWriter } from '../../data-access/aggregate-writer.ts';
import type { TenantDocument } from '../../data-access/directory.models.ts';
import type { TenantInput, TenantPatch, TenantUseCases } from '../../use-cases/tenants.use-cases.ts';
import { actorOf, allowed, pageRequest, pathParam, present, queryParam } from './request-context.ts';

export function tenantRoutes(
  router: Router,
  tenants: TenantUseCases,
  repository: AggregateWriter<TenantDocument>,
): void {
  router.get('/tenants', async (req, res) => {
    const scope = allowed(res, 'read');
    const filter: Record<string, unknown> = { deletedAt: null };
    const parent = queryParam(req, 'parentTenantId');
    const active = queryParam(req, 'active');
    const tag = queryParam(req, 'tag');
    if (parent !== undefined) filter.parentTenantId = parent;
    if (active !== undefined) filter.active = active === 'true';
    if (tag !== undefined) filter.tags = tag;
    const page = await repository.list(scope, { ...pageRequest(req), filter });
    res.json({ items: page.items.map(present), nextCursor: page.nextCursor });
  });

  router.post('/tenants', async (req, res) => {
    allowed(res, 'manage-tenants');
    const tenant = await tenants.create(actorOf(res), req.body as TenantInput, new Date());
    res.status(201).json(present(tenant));
  });

  router.get('/tenants/:tenantId', async (req, res) => {
    const id = pathParam(req, 'tenantId');
    const scope = allowed(res, 'read');
    const tenant = scopeIncludes(scope, id) ? await tenants.live(id) : null;
    if (tenant === null) throw new NotFoundError('tenant not found');
    res.json(present(tenant));
  });

  router.patch('/tenants/:tenantId', async (req, res) => {
    const id = asTenantId(pathParam(req, 'tenantId'));
    allowed(res, 'manage-tenants', id);
    res.json(present(await tenants.update(actorOf(res), id, req.body as TenantPatch, new Date())));
  });

  router.delete('/tenants/:tenantId', async (req, res) => {
    const id = pathParam(req, 'tenantId');
    allowed(res, 'manage-tenants', id);
    await tenants.remove(actorOf(res), id, new Date());
    res.status(204).end();
  });
}
