import type { Router } from 'express';
import type { AggregateWriter } from '../../data-access/aggregate-writer.ts';
import type { GroupDocument, PersonDocument } from '../../data-access/directory.models.ts';
import type { GroupUseCases } from '../../use-cases/groups.use-cases.ts';
import type { PeopleUseCases, PersonInput, PersonPatch } from '../../use-cases/people.use-cases.ts';
import {
  actorOf,
  allowed,
  pageRequest,
  pathParam,
  present,
  queryParam,
  withTenantFilter,
} from './request-context.ts';

/** People and groups: the directory as synced from Entra ID, with Converge's own tags. */
export function peopleRoutes(
  router: Router,
  people: PeopleUseCases,
  groups: GroupUseCases,
  repositories: { people: AggregateWriter<PersonDocument>; groups: AggregateWriter<GroupDocument> },
): void {
  router.get('/people', async (req, res) => {
    const scope = allowed(res, 'read');
    const filter: Record<string, unknown> = { deletedAt: null };
    for (const name of ['upn', 'entraObjectId', 'tag'] as const) {
      const value = queryParam(req, name);
      if (value !== undefined) filter[name === 'tag' ? 'tags' : name] = value;
    }
    const page = await repositories.people.list(scope, {
      ...pageRequest(req),
      filter: withTenantFilter(req, filter),
    });
    res.json({ items: page.items.map(present), nextCursor: page.nextCursor });
  });

  router.post('/people', async (req, res) => {
    const body = req.body as PersonInput & { tenantId: string };
    allowed(res, 'manage-users', body.tenantId);
    const { tenantId, ...input } = body;
    res.status(201).json(present(await people.create(actorOf(res), tenantId, input, new Date())));
  });

  router.get('/people/:personId', async (req, res) => {
    res.json(present(await people.live(allowed(res, 'read'), pathParam(req, 'personId'))));
  });

  router.patch('/people/:personId', async (req, res) => {
    const scope = allowed(res, 'manage-users');
    const person = await people.update(
      actorOf(res),
      scope,
      pathParam(req, 'personId'),
      req.body as PersonPatch,
      new Date(),
    );
    res.json(present(person));
  });

  router.get('/groups', async (req, res) => {
    const scope = allowed(res, 'read');
    const filter = withTenantFilter(req, { deletedAt: null });
    const page = await repositories.groups.list(scope, { ...pageRequest(req), filter });
    res.json({ items: page.items.map(present), nextCursor: page.nextCursor });
  });

  router.get('/groups/:groupId', async (req, res) => {
    res.json(present(await groups.live(allowed(res, 'read'), pathParam(req, 'groupId'))));
  });

  router.get('/groups/:groupId/members', async (req, res) => {
    const personIds = await groups.transitiveMembers(allowed(res, 'read'), pathParam(req, 'groupId'));
    res.json({ personIds });
  });
}
