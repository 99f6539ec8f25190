import type { RetryPolicy } from '../domain/throttling.ts';
import { fetchJson, RemoteApiError, type RemoteApi } from './resilient-fetch.ts';

export interface GraphConnection {
  graphBaseUrl: string;
  loginBaseUrl: string;
  directoryTenantId: string;
  clientId: string;
  clientSecret: string;
  policy: RetryPolicy;
}

export interface GraphUser {
  objectId: string;
  removed: boolean;
  displayName: string | null;
  userPrincipalName: string | null;
  mail: string | null;
  onPremisesSid: string | null;
}

export interface GraphMemberChange {
  kind: 'person' | 'group';
  objectId: string;
  removed: boolean;
}

export interface GraphGroup {
  objectId: string;
  removed: boolean;
  displayName: string | null;
  memberChanges: GraphMemberChange[];
}

export interface DeltaPage<T> {
  items: T[];
  /** Present on the last page only: where the next run starts. */
  deltaLink: string | null;
}

interface ODataPage {
  value?: unknown;
  '@odata.nextLink'?: unknown;
  '@odata.deltaLink'?: unknown;
}

type Json = Record<string, unknown>;

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

function parseUser(raw: Json): GraphUser | null {
  const objectId = text(raw.id);
  if (objectId === null) return null;
  return {
    objectId,
    removed: raw['@removed'] !== undefined,
    displayName: text(raw.displayName),
    userPrincipalName: text(raw.userPrincipalName),
    mail: text(raw.mail),
    onPremisesSid: text(raw.onPremisesSecurityIdentifier),
  };
}

function parseGroup(raw: Json): GraphGroup | null {
  const objectId = text(raw.id);
  if (objectId === null) return null;
  const members = Array.isArray(raw['members@delta']) ? (raw['members@delta'] as Json[]) : [];
  const memberChanges: GraphMemberChange[] = [];
  for (const member of members) {
    const memberId = text(member.id);
    const type = text(member['@odata.type']);
    // Devices and service principals can be group members too; Converge targets people and groups.
    const kind =
      type === '#microsoft.graph.user' ? 'person' : type === '#microsoft.graph.group' ? 'group' : null;
    if (memberId !== null && kind !== null) {
      memberChanges.push({ kind, objectId: memberId, removed: member['@removed'] !== undefined });
    }
  }
  return {
    objectId,
    removed: raw['@removed'] !== undefined,
    displayName: text(raw.displayName),
    memberChanges,
  };
}

const initialDelta = {
  users: '/v1.0/users/delta?$select=id,displayName,userPrincipalName,mail,onPremisesSecurityIdentifier',
  groups: '/v1.0/groups/delta?$select=id,displayName,members',
} as const;

/**
 * Microsoft Graph for one customer directory, with an app registration's client credentials. Users and groups
 * are read with delta queries: the first run pages through everything, later runs start from the stored
 * delta link and get only changes (removed objects and memberships marked `@removed`).
 */
export function createGraphClient(connection: GraphConnection) {
  const api: RemoteApi = { name: 'Microsoft Graph', policy: connection.policy, timeoutMs: 30_000 };
  let token: string | undefined;

  async function accessToken(): Promise<string> {
    if (token !== undefined) return token;
    const url = `${connection.loginBaseUrl}/${encodeURIComponent(connection.directoryTenantId)}/oauth2/v2.0/token`;
    const { body } = await fetchJson({ ...api, name: 'Entra ID token endpoint' }, url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: connection.clientId,
        client_secret: connection.clientSecret,
        scope: 'https://graph.microsoft.com/.default',
      }),
    });
    const issued = text((body as Json).access_token);
    if (issued === null) throw new RemoteApiError(api.name, url, 200, 'no access_token');
    token = issued;
    return issued;
  }

  async function get(url: string): Promise<ODataPage> {
    const { body } = await fetchJson(api, url, {
      headers: { authorization: `Bearer ${await accessToken()}` },
    });
    return body as ODataPage;
  }

  async function* delta<T>(
    kind: keyof typeof initialDelta,
    deltaLink: string | null,
    parse: (raw: Json) => T | null,
  ): AsyncGenerator<DeltaPage<T>> {
    let url: string | null = deltaLink ?? `${connection.graphBaseUrl}${initialDelta[kind]}`;
    while (url !== null) {
      const page = await get(url);
      const values = Array.isArray(page.value) ? (page.value as Json[]) : [];
      const items = values.map(parse).filter((item): item is T => item !== null);
      const next = text(page['@odata.nextLink']);
      yield { items, deltaLink: next === null ? text(page['@odata.deltaLink']) : null };
      url = next;
    }
  }

  return {
    /** Gets a token and reads the organization: proves the credentials and the Graph permissions. */
    async testConnection(): Promise<void> {
      await get(`${connection.graphBaseUrl}/v1.0/organization?$select=id`);
    },
    users: (deltaLink: string | null) => delta('users', deltaLink, parseUser),
    groups: (deltaLink: string | null) => delta('groups', deltaLink, parseGroup),
  };
}

export type GraphClient = ReturnType<typeof createGraphClient>;
