import type { GraphClient, DeltaPage } from '../data-access/microsoft-graph.client.ts';
import { RemoteApiError } from '../data-access/resilient-fetch.ts';
import { syncedId } from '../domain/directory-ids.ts';
import type { GroupUseCases } from './groups.use-cases.ts';
import type { PeopleUseCases } from './people.use-cases.ts';

export interface EntraSyncResult {
  deltaLinks: { users: string | null; groups: string | null };
  people: number;
  groups: number;
}

/**
 * Pages through a delta query from the stored link; when Graph no longer knows that link (410 Gone, after
 * long pauses or a reset), starts over with a full read instead of failing every run from then on.
 */
async function* fromLinkOrAfresh<T>(
  read: (deltaLink: string | null) => AsyncGenerator<DeltaPage<T>>,
  deltaLink: string | null,
): AsyncGenerator<DeltaPage<T>> {
  try {
    yield* read(deltaLink);
  } catch (error) {
    if (deltaLink === null || !(error instanceof RemoteApiError) || error.status !== 410) throw error;
    yield* read(null);
  }
}

/**
 * One Entra ID sync of one tenant: users first (so that memberships name known people), then groups with
 * their membership changes. Returns the new delta links; the caller stores them only if the whole run
 * succeeded, so a failed run is repeated from the same point (every write here is idempotent).
 */
export async function runEntraSync(
  tenantId: string,
  graph: GraphClient,
  deltaLinks: { users: string | null; groups: string | null },
  deps: { people: PeopleUseCases; groups: GroupUseCases },
  now: () => Date,
): Promise<EntraSyncResult> {
  const result: EntraSyncResult = { deltaLinks: { ...deltaLinks }, people: 0, groups: 0 };

  for await (const page of fromLinkOrAfresh(graph.users, deltaLinks.users)) {
    for (const user of page.items) {
      const id = syncedId('person', tenantId, user.objectId);
      const changed = user.removed
        ? await deps.people.removeSynced(id, tenantId, now())
        : await deps.people.upsertSynced(
            id,
            tenantId,
            {
              displayName: user.displayName ?? user.userPrincipalName ?? user.objectId,
              upn: user.userPrincipalName?.includes('@') === true ? user.userPrincipalName : null,
              email: user.mail,
              entraObjectId: user.objectId,
              onPremisesSid: user.onPremisesSid,
            },
            now(),
          );
      if (changed) result.people++;
    }
    if (page.deltaLink !== null) result.deltaLinks.users = page.deltaLink;
  }

  for await (const page of fromLinkOrAfresh(graph.groups, deltaLinks.groups)) {
    for (const group of page.items) {
      const id = syncedId('group', tenantId, group.objectId);
      const changed = group.removed
        ? await deps.groups.removeSynced(id, tenantId, now())
        : await deps.groups.upsertSynced(
            id,
            tenantId,
            { displayName: group.displayName, entraObjectId: group.objectId },
            group.memberChanges.map((change) => ({
              kind: change.kind,
              id: syncedId(change.kind, tenantId, change.objectId),
              removed: change.removed,
            })),
            now(),
          );
      if (changed) result.groups++;
    }
    if (page.deltaLink !== null) result.deltaLinks.groups = page.deltaLink;
  }
  return result;
}
