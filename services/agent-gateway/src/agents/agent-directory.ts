import { NotFoundError } from '@converge/errors';
import {
  asTenantId,
  encodeCursor,
  pageLimits,
  resolveLimit,
  type Page,
  type TenantScope,
} from '@converge/store';
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
  lastFacts: {
    hostname: string;
    os: string;
    osVersion: string;
    agentVersion: string;
    reportedAt: string;
  } | null;
}

function view(agent: AgentDocument, presence: Presence | undefined): AgentView {
  return {
    id: agent._id,
    tenantId: agent.tenantId,
    enrolledAt: agent.enrolledAt.toISOString(),
    revokedAt: agent.revokedAt?.toISOString() ?? null,
    epoch: agent.epoch,
    online: presence !== undefined,
    replica: presence?.replica ?? null,
    connectedSince: presence === undefined ? null : new Date(presence.connectedSinceMs).toISOString(),
    lastFacts:
      agent.lastFacts === null
        ? null
        : { ...agent.lastFacts, reportedAt: agent.lastFacts.reportedAt.toISOString() },
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
  /** Closes the agent's live connection, wherever it is (revocation). */
  disconnect(agentId: string, presence: Presence): Promise<void>;
}

export type AgentDirectory = ReturnType<typeof agentDirectory>;

/** Agents as the REST API shows them: stored enrollment plus online state from Redis presence. */
export function agentDirectory(deps: AgentDirectoryDeps) {
  const { agents, presence } = deps;

  async function withPresence(docs: AgentDocument[]): Promise<[AgentDocument, Presence | undefined][]> {
    const entries = await presence.getMany(docs.map((doc) => doc._id));
    return docs.map((doc, index) => [doc, entries[index]]);
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
        const items = (await withPresence(page.items)).map(([doc, entry]) => view(doc, entry));
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
        for (const [doc, entry] of await withPresence(page.items)) {
          if ((entry !== undefined) === request.online) items.push(view(doc, entry));
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
      return view(agent, await presence.get(agentId));
    },

    /** Revokes the credential, then closes the agent's connection wherever it is (4401). */
    async revoke(tenantId: string, agentId: string, now: Date): Promise<AgentView> {
      const agent = await agents.revoke(asTenantId(tenantId), agentId, now);
      if (agent === null) throw new NotFoundError('Agent not found');
      const entry = await presence.get(agentId);
      if (entry !== undefined) await deps.disconnect(agentId, entry);
      return view(agent, entry);
    },
  };
}
