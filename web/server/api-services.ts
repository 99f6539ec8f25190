/** The services behind the public `/api/v1`, by workspace name. */
export const apiServices = ['identity', 'deployments', 'sessions', 'agent-gateway', 'sync'] as const;

export type ApiService = (typeof apiServices)[number];

export function isApiService(name: unknown): name is ApiService {
  return typeof name === 'string' && (apiServices as readonly string[]).includes(name);
}
