import type { Router } from 'express';
import type { AuditEntryDocument, AuditRepository } from '../../data-access/audit.repository.ts';
import { allowed, pageRequest, present, queryParam, withTenantFilter } from './request-context.ts';

function entryView(entry: AuditEntryDocument) {
  return {
    ...present(entry),
    before: entry.before === null ? null : (JSON.parse(entry.before) as unknown),
    after: entry.after === null ? null : (JSON.parse(entry.after) as unknown),
  };
}

/** The audit log, newest first: who changed what, with the values before and after. */
export function auditRoutes(router: Router, audit: AuditRepository): void {
  router.get('/audit', async (req, res) => {
    const scope = allowed(res, 'manage-users');
    const filter: Record<string, unknown> = {};
    for (const name of ['entityType', 'entityId', 'action'] as const) {
      const value = queryParam(req, name);
      if (value !== undefined) filter[name] = value;
    }
    const actor = queryParam(req, 'actor');
    if (actor !== undefined) filter['actor.subject'] = actor;
    const impersonatedBy = queryParam(req, 'impersonatedBy');
    if (impersonatedBy !== undefined) filter['actor.impersonatedBy'] = impersonatedBy;
    const since = queryParam(req, 'since');
    if (since !== undefined) filter.at = { $gte: new Date(since) };
    const page = await audit.list(scope, {
      ...pageRequest(req),
      filter: withTenantFilter(req, filter),
      sortBy: 'at',
      direction: 'desc',
    });
    res.json({ items: page.items.map(entryView), nextCursor: page.nextCursor });
  });
}
