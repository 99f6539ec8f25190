import { NotFoundError } from '@converge/errors';
import {
  asTenantId,
  encodeCursor,
  pageLimits,
  resolveLimit,
  type Page,
  type TenantScope,
} from '@converge/store';
import type { ConnectionEpochs } from '../credentials/connection-epochs.ts';
import type { CredentialCache } from '../credentials/credential-cache.ts';
import type { AgentDocument, AgentRepository } from '../data-access/agent.repository.ts';
import type { Presence } from '../domain/presence.ts';
import type { PresenceStore } from '../presence/presence-store.ts';

export interface AgentView {
  id: string;
  tenantId: string;
  enrolledAt: string;
  revokedAt: string | null;
  epoch: number;
  online: boolean;
  replica: string | null;
  connectedSince: string | null;
}

/** What Redis knows of an agent beside its stored enrollment: where it is connected, its latest epoch. */
interface LiveState {
  presence: Presence | undefined;
  epoch: number | undefined;
}

function view(agent: AgentDocument, live: LiveState): AgentView {
  const { presence } = live;
  return {
    id: agent._id,
    tenantId: agent.tenantId,
    enrolledAt: agent.enrolledAt.toISOString(),
    revokedAt: agent.revokedAt?.toISOString() ?? null,
    epoch: Math.max(agent.epoch, live.epoch ?? 0),
    online: presence !== undefined,
    replica: presence?.replica ?? null,
    connectedSince: presence === undefined ? null : new Date(presence.connectedSinceMs).toISOString(),
  };
}

export interface AgentListRequest {
  tenantId?: string;
  online?: boolean;
  limit?: number;
  cursor?: string;
}

// With an online filter, a page reads at most this many stored agents before it answers with what it has.
const scanBatches = 10;

export interface AgentDirectoryDeps {
  agents: AgentRepository;
  presence: PresenceStore;
  epochs: ConnectionEpochs;
  credentials: CredentialCache;
  /** Tells every replica that the credential is revoked; each then refuses it and closes its connections. */
  announceRevocation(agentId: string): Promise<void>;
}

export type AgentDirectory = ReturnType<typeof agentDirectory>;

/** Agents as the REST API shows them: stored enrollment plus online state and epoch from Redis. */
export function agentDirectory(deps: AgentDirectoryDeps) {
  const { agents, presence, epochs } = deps;

  async function withPresence(docs: AgentDocument[]): Promise<[AgentDocument, LiveState][]> {
    const ids = docs.map((doc) => doc._id);
    const [entries, latest] = await Promise.all([presence.getMany(ids), epochs.latest(ids)]);
    return docs.map((doc, index) => [doc, { presence: entries[index], epoch: latest[index] }]);
  }

  async function liveState(agentId: string): Promise<LiveState> {
    const [entry, latest] = await Promise.all([presence.get(agentId), epochs.latest([agentId])]);
    return { presence: entry, epoch: latest[0] };
  }

  return {
    /**
     * Pages by agent id. Online state lives in Redis, not in the database, so an `online` filter reads
     * stored pages and keeps the matching agents; the cursor then points after the last agent read.
     */
    async list(scope: TenantScope, request: AgentListRequest): Promise<Page<AgentView>> {
      const limit = resolveLimit(request.limit);
      const filter = request.tenantId === undefined ? {} : { tenantId: request.tenantId };
      if (request.online === undefined) {
        const page = await agents.list(scope, {
          filter,
          limit,
          ...(request.cursor ? { cursor: request.cursor } : {}),
        });
        const items = (await withPresence(page.items)).map(([doc, live]) => view(doc, live));
        return { items, nextCursor: page.nextCursor };
      }
      const items: AgentView[] = [];
      let cursor = request.cursor;
      for (let batch = 0; batch < scanBatches; batch++) {
        const page = await agents.list(scope, {
          filter,
          limit: pageLimits.max,
          ...(cursor ? { cursor } : {}),
        });
        for (const [doc, live] of await withPresence(page.items)) {
          if ((live.presence !== undefined) === request.online) items.push(view(doc, live));
          cursor = encodeCursor({ sortBy: '_id', direction: 'asc', value: doc._id, id: doc._id });
          if (items.length === limit) {
            const more = page.nextCursor !== null || doc !== page.items.at(-1);
            return { items, nextCursor: more ? cursor : null };
          }
        }
        if (page.nextCursor === null) return { items, nextCursor: null };
      }
      return { items, nextCursor: cursor ?? null };
    },

    async get(scope: TenantScope, agentId: string): Promise<AgentView> {
      const agent = await agents.getById(scope, agentId);
      return view(agent, await liveState(agentId));
    },

    /**
     * Revokes the credential in the store, then in the credential cache (a Redis tombstone) and on every
     * replica at once: each refuses the credential from then on and closes the agent's connections (4401).
     */
    async revoke(tenantId: string, agentId: string, now: Date): Promise<AgentView> {
      const agent = await agents.revoke(asTenantId(tenantId), agentId, now);
      if (agent === null) throw new NotFoundError('Agent not found');
      await deps.credentials.revoke(agentId);
      await deps.announceRevocation(agentId);
      return view(agent, await liveState(agentId));
    },
  };
}
