import type { Router } from 'express';
import { principalOf } from '@converge/http';
import type { AccessRequestRepository, UserRepository } from '../../data-access/user.repository.ts';
import { userView, type Grant, type UserUseCases } from '../../use-cases/users.use-cases.ts';
import {
  actorOf,
  allowed,
  pageRequest,
  pathParam,
  present,
  queryParam,
  withTenantFilter,
} from './request-context.ts';

/** Portal users and access requests: who may sign in, with which role, until when. */
export function userRoutes(
  router: Router,
  users: UserUseCases,
  repositories: { users: UserRepository; accessRequests: AccessRequestRepository },
): void {
  router.get('/users', async (req, res) => {
    const scope = allowed(res, 'manage-users');
    const filter: Record<string, unknown> = { removedAt: null };
    for (const name of ['role', 'personId'] as const) {
      const value = queryParam(req, name);
      if (value !== undefined) filter[name] = value;
    }
    const page = await repositories.users.list(scope, {
      ...pageRequest(req),
      filter: withTenantFilter(req, filter),
    });
    res.json({ items: page.items.map(userView), nextCursor: page.nextCursor });
  });

  router.post('/users', async (req, res) => {
    const scope = allowed(res, 'manage-users');
    const body = req.body as Grant & { personId: string };
    const { user, invitationCode } = await users.invite(actorOf(res), scope, body, new Date());
    res.status(201).json({ ...userView(user), invitationCode });
  });

  router.get('/users/:userId', async (req, res) => {
    res.json(userView(await users.live(allowed(res, 'manage-users'), pathParam(req, 'userId'))));
  });

  router.patch('/users/:userId', async (req, res) => {
    const scope = allowed(res, 'manage-users');
    const patch = req.body as Partial<Grant> & { version?: number };
    res.json(userView(await users.update(actorOf(res), scope, pathParam(req, 'userId'), patch, new Date())));
  });

  router.delete('/users/:userId', async (req, res) => {
    await users.remove(actorOf(res), allowed(res, 'manage-users'), pathParam(req, 'userId'), new Date());
    res.status(204).end();
  });

  // Open to every signed-in principal: redeeming an invitation is how a person without access gets it.
  router.post('/invitations/redeem', async (req, res) => {
    const { code } = req.body as { code: string };
    res.json(userView(await users.redeemInvitation(principalOf(res), code, new Date())));
  });

  // Open to every signed-in principal: asking for access is what one does without any.
  router.post('/access-requests', async (req, res) => {
    const body = req.body as { tenantId?: string; message?: string };
    res.status(201).json(present(await users.requestAccess(principalOf(res), body, new Date())));
  });

  router.get('/access-requests', async (req, res) => {
    const scope = allowed(res, 'manage-users');
    const filter: Record<string, unknown> = {};
    const status = queryParam(req, 'status');
    if (status !== undefined) filter.status = status;
    const page = await repositories.accessRequests.list(scope, {
      ...pageRequest(req),
      filter: withTenantFilter(req, filter),
    });
    res.json({ items: page.items.map(present), nextCursor: page.nextCursor });
  });

  router.post('/access-requests/:requestId/approve', async (req, res) => {
    const scope = allowed(res, 'manage-users');
    const request = await users.approve(
      actorOf(res),
      scope,
      pathParam(req, 'requestId'),
      req.body as Grant,
      new Date(),
    );
    res.json(present(request));
  });

  router.post('/access-requests/:requestId/deny', async (req, res) => {
    const scope = allowed(res, 'manage-users');
    res.json(present(await users.deny(actorOf(res), scope, pathParam(req, 'requestId'), new Date())));
  });
}
