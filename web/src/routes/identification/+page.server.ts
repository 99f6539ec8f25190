import { fail } from '@sveltejs/kit';
import { apiFor, dataOf } from '$lib/server/api';
import { problemOf } from '$lib/problem';
import type { Actions, PageServerLoad } from './$types';

const choices = ['overwrite-existing', 'keep-both', 'delete-existing'] as const;

/** A text field of a submitted form ('' when missing). */
function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}

export const load: PageServerLoad = async (event) => {
  const api = apiFor(event);
  const [pending, failures] = await Promise.all([
    api.GET('/identification/pending-decisions', { params: { query: { limit: 100 } } }),
    api.GET('/identification/failures', { params: { query: { limit: 100 } } }),
  ]);
  return { pending: dataOf(event, pending), failures: dataOf(event, failures) };
};

export const actions: Actions = {
  decide: async (event) => {
    const form = await event.request.formData();
    const agentId = field(form, 'agentId');
    const choice = choices.find((value) => value === form.get('choice'));
    const computerId = field(form, 'computerId');
    if (choice === undefined) return fail(400, { agentId, message: 'Choose what to do with the agent.' });
    const { data, error, response } = await apiFor(event).POST(
      '/identification/pending-decisions/{agentId}',
      {
        params: { path: { agentId } },
        body: { choice, ...(choice === 'keep-both' || computerId === '' ? {} : { computerId }) },
      },
    );
    if (!response.ok)
      return fail(response.status, { agentId, message: problemOf(error, response.status).detail });
    return {
      agentId,
      message: data && 'outcome' in data ? `Done: ${data.outcome}.` : 'Accepted; it is applied shortly.',
    };
  },
  retry: async (event) => {
    const agentId = field(await event.request.formData(), 'agentId');
    const { error, response } = await apiFor(event).POST('/identification/failures/{agentId}/retry', {
      params: { path: { agentId } },
    });
    if (!response.ok)
      return fail(response.status, { agentId, message: problemOf(error, response.status).detail });
    return { agentId, message: 'Retried.' };
  },
};
