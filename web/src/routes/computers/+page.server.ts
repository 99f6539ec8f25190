import { apiFor, dataOf } from '$lib/server/api';
import type { PageServerLoad } from './$types';

const pageSize = 50;
const onboardingStatuses = ['needs-onboarding', 'onboarding', 'onboarded', 'failed'] as const;
const deviceTypes = ['workstation', 'portable', 'server', 'domain-controller'] as const;

function oneOf<T extends string>(values: readonly T[], value: string | null): T | undefined {
  return values.find((candidate) => candidate === value);
}

/** One page of computers: the list never loads more than a page, however large the fleet. */
export const load: PageServerLoad = async (event) => {
  const params = event.url.searchParams;
  const filter = {
    search: params.get('search') ?? '',
    online: params.get('online') ?? '',
    onboardingStatus: params.get('onboardingStatus') ?? '',
    deviceType: params.get('deviceType') ?? '',
    sortBy: params.get('sortBy') ?? 'name',
  };
  const cursor = params.get('cursor');
  const onboardingStatus = oneOf(onboardingStatuses, filter.onboardingStatus);
  const deviceType = oneOf(deviceTypes, filter.deviceType);
  const sortBy = oneOf(['name', 'lastSeenAt', 'createdAt'] as const, filter.sortBy);
  const page = dataOf(
    event,
    await apiFor(event).GET('/computers', {
      params: {
        query: {
          limit: pageSize,
          ...(cursor === null ? {} : { cursor }),
          ...(filter.search === '' ? {} : { search: filter.search }),
          ...(filter.online === '' ? {} : { online: filter.online === 'true' }),
          ...(onboardingStatus === undefined ? {} : { onboardingStatus }),
          ...(deviceType === undefined ? {} : { deviceType }),
          ...(sortBy === undefined ? {} : { sortBy }),
        },
      },
    }),
  );
  return {
    computers: page.items,
    nextCursor: page.nextCursor,
    filter,
    firstPage: cursor === null,
    onboardingStatuses,
    deviceTypes,
  };
};
