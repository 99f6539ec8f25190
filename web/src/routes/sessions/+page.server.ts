import { apiFor, dataOf } from '$lib/server/api';
import type { PageServerLoad } from './$types';

const statuses = [
  'created',
  'pending',
  'pending-connectivity',
  'running',
  'passed',
  'partially-passed',
  'failed',
  'cancelled',
  'postponed',
  'missed',
] as const;
const kinds = ['onboarding', 'full', 'single-item', 'detection-only'] as const;

export const load: PageServerLoad = async (event) => {
  const params = event.url.searchParams;
  const status = statuses.find((value) => value === params.get('status'));
  const kind = kinds.find((value) => value === params.get('kind'));
  const cursor = params.get('cursor');
  const computerId = params.get('computerId');
  const page = dataOf(
    event,
    await apiFor(event).GET('/sessions', {
      params: {
        query: {
          limit: 50,
          ...(status === undefined ? {} : { status }),
          ...(kind === undefined ? {} : { kind }),
          ...(cursor === null ? {} : { cursor }),
          ...(computerId === null || computerId === '' ? {} : { computerId }),
        },
      },
    }),
  );
  return {
    sessions: page.items,
    nextCursor: page.nextCursor,
    firstPage: cursor === null,
    filter: { status: status ?? '', kind: kind ?? '', computerId: computerId ?? '' },
    statuses,
    kinds,
  };
};
