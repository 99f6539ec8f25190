import type { Router } from 'express';
import { NotFoundError } from '@converge/errors';
import { asTenantId } from '@converge/store';
import type { AuditRepository } from '../../data-access/audit.repository.ts';
import type { PsaCompanyRepository } from '../../data-access/integration.repository.ts';
import type { TenantUseCases } from '../../use-cases/tenants.use-cases.ts';
import {
  describeIntegration,
  type IntegrationInput,
  type IntegrationPatch,
  type IntegrationUseCases,
} from '../../use-cases/integrations.use-cases.ts';
import { auditActor } from '../../use-cases/actor.ts';
import {
  actorOf,
  allowed,
  pageRequest,
  pathParam,
  present,
  queryParam,
  withTenantFilter,
} from './request-context.ts';

/** Entra ID and PSA integrations: credentials go in and never come out. */
export function integrationRoutes(
  router: Router,
  integrations: IntegrationUseCases,
  deps: { companies: PsaCompanyRepository; tenants: TenantUseCases; audit: AuditRepository },
): void {
  router.get('/integrations', async (req, res) => {
    const scope = allowed(res, 'manage-integrations');
    const filter: Record<string, unknown> = {};
    const kind = queryParam(req, 'kind');
    if (kind !== undefined) filter.kind = kind;
    const page = await integrations.list(scope, {
      ...pageRequest(req),
      filter: withTenantFilter(req, filter),
    });
    res.json({ items: page.items.map(describeIntegration), nextCursor: page.nextCursor });
  });

  router.post('/integrations', async (req, res) => {
    const body = req.body as IntegrationInput;
    allowed(res, 'manage-integrations', body.tenantId);
    if ((await deps.tenants.live(body.tenantId)) === null) throw new NotFoundError('tenant not found');
    res.status(201).json(describeIntegration(await integrations.create(actorOf(res), body, new Date())));
  });

  router.get('/integrations/:integrationId', async (req, res) => {
    const integration = await integrations.get(
      allowed(res, 'manage-integrations'),
      pathParam(req, 'integrationId'),
    );
    res.json(describeIntegration(integration));
  });

  router.patch('/integrations/:integrationId', async (req, res) => {
    const scope = allowed(res, 'manage-integrations');
    const patch = req.body as IntegrationPatch;
    const updated = await integrations.update(
      actorOf(res),
      scope,
      pathParam(req, 'integrationId'),
      patch,
      new Date(),
    );
    res.json(describeIntegration(updated));
  });

  router.delete('/integrations/:integrationId', async (req, res) => {
    await integrations.remove(
      actorOf(res),
      allowed(res, 'manage-integrations'),
      pathParam(req, 'integrationId'),
      new Date(),
    );
    res.status(204).end();
  });

  router.post('/integrations/:integrationId/test', async (req, res) => {
    res.json(
      await integrations.testConnection(allowed(res, 'manage-integrations'), pathParam(req, 'integrationId')),
    );
  });

  router.post('/integrations/:integrationId/sync', async (req, res) => {
    await integrations.syncNow(allowed(res, 'manage-integrations'), pathParam(req, 'integrationId'));
    res.status(202).json({ status: 'started' });
  });

  router.get('/integrations/:integrationId/companies', async (req, res) => {
    const scope = allowed(res, 'manage-integrations');
    const integration = await integrations.get(scope, pathParam(req, 'integrationId'));
    const page = await deps.companies.list(scope, {
      ...pageRequest(req),
      filter: { integrationId: integration._id },
    });
    res.json({ items: page.items.map(present), nextCursor: page.nextCursor });
  });

  // Confirms (or clears, with null) which tenant a PSA company is: agreements sync for confirmed ones only.
  router.put('/integrations/:integrationId/companies/:companyId', async (req, res) => {
    const scope = allowed(res, 'manage-integrations');
    const integration = await integrations.get(scope, pathParam(req, 'integrationId'));
    const { tenantId } = req.body as { tenantId: string | null };
    if (tenantId !== null && (await deps.tenants.live(tenantId)) === null)
      throw new NotFoundError('tenant not found');
    const companyId = `${integration._id}:${pathParam(req, 'companyId')}`;
    const company = await deps.companies.findById(scope, companyId);
    if (company === null) throw new NotFoundError('company not found');
    const updated = await deps.companies.map(companyId, tenantId);
    await deps.audit.record({
      tenantId: asTenantId(integration.tenantId),
      actor: auditActor(actorOf(res)),
      entityType: 'psa-company',
      entityId: companyId,
      action: 'mapped',
      before: { mappedTenantId: company.mappedTenantId },
      after: { mappedTenantId: tenantId },
      at: new Date(),
    });
    res.json(present(updated));
  });
}
