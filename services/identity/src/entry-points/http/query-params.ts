import type { Request } from 'express';
import type { PageRequest, SortDirection } from '@converge/store';

// The OpenAPI validator has checked the query; Express 5 re-parses it on each read, so values arrive as text.

export function text(req: Request, name: string): string | undefined {
  const value: unknown = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(req: Request, name: string): boolean | undefined {
  const value = text(req, name);
  return value === undefined ? undefined : value === 'true';
}

export function pageOf(req: Request, sortBy?: string): PageRequest {
  const limit = text(req, 'limit');
  const cursor = text(req, 'cursor');
  return {
    ...(limit === undefined ? {} : { limit: Number(limit) }),
    ...(cursor === undefined ? {} : { cursor }),
    ...(sortBy === undefined ? {} : { sortBy }),
    direction: (text(req, 'direction') ?? 'asc') as SortDirection,
  };
}
