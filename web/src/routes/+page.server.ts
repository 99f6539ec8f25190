import { apiFor } from '$lib/server/api';
import type { PageServerLoad } from './$types';

/** Counted up to one page: the home page stays fast however large the fleet ("200+" beyond). */
const countLimit = 200;

function counted(result: { data?: { items: unknown[]; nextCursor?: string | null } }): string {
  if (result.data === undefined) return '—';
  return `${result.data.items.length}${result.data.nextCursor ? '+' : ''}`;
}

export const load: PageServerLoad = async (event) => {
  const api = apiFor(event);
  const limit = countLimit;
  const [online, offline, running, failed, pending, failures] = await Promise.all([
    api.GET('/computers', { params: { query: { online: true, limit } } }),
    api.GET('/computers', { params: { query: { online: false, limit } } }),
    api.GET('/sessions', { params: { query: { status: 'running', limit } } }),
    api.GET('/sessions', { params: { query: { status: 'failed', limit } } }),
    api.GET('/identification/pending-decisions', { params: { query: { limit } } }),
    api.GET('/identification/failures', { params: { query: { limit } } }),
  ]);
  const startOfDay = new Date();
  startOfDay.setHours(0, 0, 0, 0);
  const failedToday = (failed.data?.items ?? []).filter(
    (session) => new Date(session.createdAt) >= startOfDay,
  );
  return {
    counts: {
      online: counted(online),
      offline: counted(offline),
      running: counted(running),
      failedToday: failed.data === undefined ? '—' : String(failedToday.length),
      pending: counted(pending),
      failures: counted(failures),
    },
    recentFailures: failedToday.slice(0, 10),
    loadedAt: new Date().toISOString(),
  };
};
