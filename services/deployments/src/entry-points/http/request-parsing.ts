import type { Request } from 'express';
import { ValidationError } from '@converge/errors';
import type { PageRequest } from '@converge/store';

// The OpenAPI validator has already checked the query's shape; these read it as the types it described.

export function queryText(req: Request, name: string): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

export function queryInteger(req: Request, name: string): number | undefined {
  const text = queryText(req, name);
  return text === undefined ? undefined : Number(text);
}

export function pageRequestOf(req: Request): PageRequest {
  const limit = queryInteger(req, 'limit');
  const cursor = queryText(req, 'cursor');
  return { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) };
}

export function pathId(req: Request, name = 'id'): string {
  const value = req.params[name];
  if (typeof value !== 'string') throw new ValidationError(`missing path parameter ${name}`);
  return value;
}

/** The version a deletion is made against (`?version=`). */
export function versionQuery(req: Request): number {
  const version = queryInteger(req, 'version');
  if (version === undefined) throw new ValidationError('version is required');
  return version;
}

/** The version a change is made against (`version` in the body, required by the PUT schemas). */
export function bodyVersion(body: { version?: number }): number {
  if (body.version === undefined) throw new ValidationError('version is required');
  return body.version;
}
