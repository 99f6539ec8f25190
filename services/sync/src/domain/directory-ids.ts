import { createHash } from 'node:crypto';

/**
 * The Converge id of a person or group synced from a directory: derived from the tenant and the directory's
 * object id, so a group can name a nested group (or a person) before that one is synced, and a re-run finds
 * the same document. Two Converge tenants linked to one directory (sites) still get distinct ids.
 */
export function syncedId(kind: 'person' | 'group', tenantId: string, objectId: string): string {
  const digest = createHash('sha256').update(`${tenantId}\n${objectId}`).digest('hex').slice(0, 32);
  return `${kind}-${digest}`;
}
