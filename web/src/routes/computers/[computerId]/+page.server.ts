import { fail, redirect } from '@sveltejs/kit';
import { apiFor, dataOf } from '$lib/server/api';
import { problemOf } from '$lib/problem';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const api = apiFor(event);
  const computerId = event.params.computerId;
  const path = { path: { computerId } };
  const [computer, resolution, sessions] = await Promise.all([
    api.GET('/computers/{computerId}', { params: path }),
    api.GET('/computers/{computerId}/resolution', { params: path }),
    api.GET('/sessions', { params: { query: { computerId, limit: 10 } } }),
  ]);
  return {
    computer: dataOf(event, computer),
    // The preview is useful, not essential: its failure is shown in place, not as the page's error.
    resolution: resolution.data ?? null,
    resolutionProblem:
      resolution.data === undefined ? problemOf(resolution.error, resolution.response.status) : null,
    sessions: sessions.data?.items ?? [],
  };
};

export const actions: Actions = {
  /** "Run maintenance now": a full session, then its live view. */
  run: async (event) => {
    const { data, error, response } = await apiFor(event).POST('/sessions', {
      body: { computerIds: [event.params.computerId], kind: 'full' },
    });
    if (data === undefined) return fail(response.status, { problem: problemOf(error, response.status) });
    const started = data.started[0];
    if (started === undefined) {
      return fail(409, {
        problem: problemOf(
          { title: 'Not started', status: 409, detail: data.skipped[0]?.reason ?? 'no session was started' },
          409,
        ),
      });
    }
    redirect(303, `/sessions/${encodeURIComponent(started.sessionId)}`);
  },
};
