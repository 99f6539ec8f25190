import { error, redirect, type RequestEvent } from '@sveltejs/kit';
import createClient from 'openapi-fetch';
import { ApiRoutes } from '../../../server/api-routes.ts';
import { webConfig } from '../../../server/config.ts';
import document from '../api/gen/openapi.json';
import type { paths } from '../api/gen/schema';
import { problemOf } from '../problem.ts';

const routes = new ApiRoutes(document);
const apiPrefix = '/api/v1';

/**
 * Sends a request meant for the public origin straight to the service that owns its path (the same routing
 * table as the edge), sparing the server-side page loads a hop through the edge.
 */
function routedFetch(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const service = routes.serviceFor(url.pathname.slice(apiPrefix.length));
  if (service === undefined) return fetch(request);
  const upstream = webConfig().upstreams[service];
  return fetch(new Request(new URL(`${url.pathname}${url.search}`, upstream), request));
}

export type Api = ReturnType<typeof createClient<paths>>;

/** The typed API client for a page load, calling as the signed-in technician. */
export function apiFor(event: RequestEvent): Api {
  const session = event.locals.session;
  if (session === undefined)
    redirect(303, `/auth/sign-in?returnTo=${encodeURIComponent(event.url.pathname)}`);
  return createClient<paths>({
    baseUrl: new URL(apiPrefix, webConfig().publicUrl).href,
    fetch: routedFetch,
    headers: { authorization: `Bearer ${session.accessToken}` },
  });
}

/**
 * The data of an API answer, or the page's error from its problem details (401: sign in again). Every page
 * load goes through it, so error pages all show the service's own words and trace id.
 */
export function dataOf<T>(
  event: RequestEvent,
  result: { data?: T; error?: unknown; response: Response },
): NonNullable<T> {
  if (result.data !== undefined && result.data !== null) return result.data;
  const { status } = result.response;
  if (status === 401) redirect(303, `/auth/sign-in?returnTo=${encodeURIComponent(event.url.pathname)}`);
  const problem = problemOf(result.error, status);
  error(problem.status, {
    message: problem.detail,
    title: problem.title,
    ...(problem.traceId === undefined ? {} : { traceId: problem.traceId }),
  });
}
