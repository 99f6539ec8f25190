import type { RequestHandler, Response } from 'express';
import type { Principal } from '@converge/auth';
import { ForbiddenError, NotFoundError } from '@converge/errors';
import { principalOf } from '@converge/http';
import {
  effectivePrincipal,
  type EffectiveAccessResolver,
  type EffectiveAccessStore,
} from './effective-access.ts';
import { authorize } from './tenant-scope.ts';

/**
 * A signed-in MSP admin (never an application) names the user (by user id) whose access a request should
 * have.
 */
export const impersonationHeader = 'x-converge-impersonate';

export interface ImpersonatedRequest {
  /** The MSP admin who sent the request. */
  impersonator: Principal;
  /** The user the request acts as. */
  principal: Principal;
  method: string;
  path: string;
}

export interface AccessMiddlewareOptions {
  store: EffectiveAccessStore;
  resolve: EffectiveAccessResolver;
  /**
   * Audits an impersonated request before it runs; a rejection refuses the request. Without it, impersonated
   * requests are refused: no impersonation goes unaudited.
   */
  onImpersonation?: (request: ImpersonatedRequest) => Promise<void>;
}

/**
 * Replaces the token's principal on `res.locals.principal` with the effective one (roles, tenant and expiry
 * from Redis), and, for an MSP admin's impersonated request, with the impersonated user's.
 */
export function accessMiddleware(opts: AccessMiddlewareOptions): RequestHandler {
  return async (req, res, next) => {
    const caller = await opts.resolve(principalOf(res));
    const target = req.get(impersonationHeader);
    if (target === undefined || target === '') {
      res.locals.principal = caller;
      next();
      return;
    }
    // Only a person may act as another person: an application (client-credentials) token can carry the
    // msp-admin app role, but nobody signed in behind it answers for what it does in a user's name.
    if (caller.kind !== 'user') throw new ForbiddenError('an application may not impersonate users');
    authorize(caller, 'impersonate');
    const audit = opts.onImpersonation;
    if (audit === undefined) throw new ForbiddenError('this service cannot audit impersonated requests');
    const record = await opts.store.forUser(target);
    if (record === null) throw new NotFoundError('no such user to impersonate');
    const principal = effectivePrincipal(
      {
        issuer: record.issuer,
        subject: record.subject,
        kind: 'user',
        roles: [],
        tenantId: record.tenantId,
        scopes: [],
      },
      record,
      new Date(),
    );
    await audit({
      impersonator: caller,
      principal,
      method: req.method,
      path: req.originalUrl.split('?', 1)[0] ?? req.originalUrl,
    });
    res.locals.principal = principal;
    res.locals.impersonator = caller;
    next();
  };
}

/** The MSP admin behind an impersonated request, or undefined for a request made in one's own name. */
export function impersonatorOf(res: Response): Principal | undefined {
  return res.locals.impersonator as Principal | undefined;
}
