import type { Router } from 'express';
import { NotFoundError } from '@converge/errors';
import type { AggregateWriter } from '../../data-access/aggregate-writer.ts';
import type { PsaAgreementDocument } from '../../data-access/directory.models.ts';
import { isActive } from '../../domain/date-range.ts';
import { allowed, pageRequest, pathParam, present, queryParam, withTenantFilter } from './request-context.ts';

/** An agreement with `active` computed for now, on the agreement and on each addition. */
function withActivity(agreement: PsaAgreementDocument, now: Date) {
  return {
    ...present(agreement),
    active: isActive(agreement, now),
    additions: agreement.additions.map((addition) => ({ ...addition, active: isActive(addition, now) })),
  };
}

export function psaAgreementRoutes(router: Router, agreements: AggregateWriter<PsaAgreementDocument>): void {
  router.get('/psa-agreements', async (req, res) => {
    const scope = allowed(res, 'read');
    const filter: Record<string, unknown> = { deletedAt: null };
    const productId = queryParam(req, 'productId');
    if (productId !== undefined) filter['additions.productId'] = productId;
    const page = await agreements.list(scope, { ...pageRequest(req), filter: withTenantFilter(req, filter) });
    const now = new Date();
    res.json({
      items: page.items.map((agreement) => withActivity(agreement, now)),
      nextCursor: page.nextCursor,
    });
  });

  router.get('/psa-agreements/:agreementId', async (req, res) => {
    const agreement = await agreements.findOne(allowed(res, 'read'), {
      _id: pathParam(req, 'agreementId'),
      deletedAt: null,
    });
    if (agreement === null) throw new NotFoundError('agreement not found');
    res.json(withActivity(agreement, new Date()));
  });
}
