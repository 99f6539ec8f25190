import type { RequestHandler, Response } from 'express';
import type { Principal, TokenVerifier } from '@converge/auth';
import { DomainError, UnauthorizedError, UnavailableError } from '@converge/errors';

const bearer = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Verifies the bearer token and keeps the caller's principal on `res.locals.principal`. */
export function authenticate(verifyToken: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const token = bearer.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined) throw new UnauthorizedError('a bearer token is required');
    try {
      res.locals.principal = await verifyToken(token);
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
        throw error;
      }
      if (error instanceof DomainError) throw error;
      // The issuer's keys being unreachable says nothing about the token: the caller may retry later.
      throw new UnavailableError('tokens cannot be verified right now', { cause: error });
    }
    next();
  };
}

/** The authenticated caller of a request under `/api`. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (principal === undefined) throw new UnauthorizedError();
  return principal;
}
