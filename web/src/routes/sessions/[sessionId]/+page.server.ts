import { fail, redirect } from '@sveltejs/kit';
import { apiFor, dataOf } from '$lib/server/api';
import { problemOf } from '$lib/problem';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const path = { path: { sessionId: event.params.sessionId } };
  return { session: dataOf(event, await apiFor(event).GET('/sessions/{sessionId}', { params: path })) };
};

export const actions: Actions = {
  cancel: async (event) => {
    const path = { path: { sessionId: event.params.sessionId } };
    const { error, response } = await apiFor(event).POST('/sessions/{sessionId}/cancel', { params: path });
    if (!response.ok) return fail(response.status, { problem: problemOf(error, response.status) });
    return { cancelled: true };
  },
  rerun: async (event) => {
    const path = { path: { sessionId: event.params.sessionId } };
    const { data, error, response } = await apiFor(event).POST('/sessions/{sessionId}/rerun', {
      params: path,
    });
    if (data === undefined) return fail(response.status, { problem: problemOf(error, response.status) });
    const started = data.started[0];
    if (started === undefined) {
      const reason = data.skipped[0]?.reason ?? 'no session was started';
      return fail(409, { problem: problemOf({ title: 'Not started', status: 409, detail: reason }, 409) });
    }
    redirect(303, `/sessions/${encodeURIComponent(started.sessionId)}`);
  },
};
