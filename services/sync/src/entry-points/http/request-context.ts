import type { Request, Response } from 'express';
import { impersonatorOf, tenantScopeOf } from '@converge/access';
import type { Action } from '@converge/access';
import { authorize } from '@converge/access';
import { principalOf } from '@converge/http';
import type { PageRequest, TenantScope } from '@converge/store';
import type { Actor } from '../../use-cases/actor.ts';

/** The caller of a request as the use cases see it: who, and who is behind an impersonation. */
export function actorOf(res: Response): Actor {
  return { principal: principalOf(res), impersonator: impersonatorOf(res) };
}

/** Authorizes the action (in `tenantId` when given) and returns the caller's tenant scope for the query. */
export function allowed(res: Response, action: Action, tenantId?: string): TenantScope {
  const principal = principalOf(res);
  authorize(principal, action, tenantId);
  return tenantScopeOf(principal);
}

/** A query parameter, already checked against the OpenAPI document (strings in express 5's `req.query`). */
export function queryParam(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

export function pageRequest(req: Request): PageRequest {
  const limit = queryParam(req, 'limit');
  const cursor = queryParam(req, 'cursor');
  return {
    ...(limit === undefined ? {} : { limit: Number(limit) }),
    ...(cursor === undefined ? {} : { cursor }),
  };
}

/** A path parameter (always present: the route matched it). */
export function pathParam(req: Request, name: string): string {
  return String((req.params as Record<string, string | undefined>)[name]);
}

type Presented<T> = Omit<T, '_id' | 'outbox' | 'outboxLeaseUntil' | 'outboxLeaseOwner'> & { id: string };

/** A stored document as the API shows it: `id` instead of `_id`, no outbox bookkeeping. */
export function present<T extends { _id: string }>(doc: T): Presented<T> {
  const {
    _id,
    outbox: _outbox,
    outboxLeaseUntil: _until,
    outboxLeaseOwner: _owner,
    ...rest
  } = doc as T & {
    outbox?: unknown;
    outboxLeaseUntil?: unknown;
    outboxLeaseOwner?: unknown;
  };
  return { id: _id, ...rest };
}

/**
 * Adds the `tenantId` query filter. Inside `$and`, so that the repository's scope still applies beside it: a
 * tenant user asking for another tenant gets nothing rather than their own tenant's items.
 */
export function withTenantFilter(req: Request, filter: Record<string, unknown>): Record<string, unknown> {
  const tenantId = queryParam(req, 'tenantId');
  return tenantId === undefined ? filter : { ...filter, $and: [{ tenantId }] };
}
