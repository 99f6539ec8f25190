import type { Router } from 'express';
import { authorize, tenantScopeOf } from '@converge/access';
import { principalOf } from '@converge/http';
import type { AgentDirectory } from '../../agents/agent-directory.ts';

/** Enrolled agents with their online state, and revocation of an agent's credential. */
export function agentRoutes(router: Router, agents: AgentDirectory): void {
  router.get('/agents', async (req, res) => {
    const principal = principalOf(res);
    // The OpenAPI validator may already have coerced `online` to a boolean.
    const query = req.query as {
      tenantId?: string;
      online?: string | boolean;
      limit?: string;
      cursor?: string;
    };
    authorize(principal, 'manage-agents', query.tenantId);
    res.json(
      await agents.list(tenantScopeOf(principal), {
        ...(query.tenantId === undefined ? {} : { tenantId: query.tenantId }),
        ...(query.online === undefined ? {} : { online: String(query.online) === 'true' }),
        ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      }),
    );
  });

  router.get('/agents/:agentId', async (req, res) => {
    const principal = principalOf(res);
    authorize(principal, 'manage-agents');
    const agent = await agents.get(tenantScopeOf(principal), req.params.agentId);
    authorize(principal, 'manage-agents', agent.tenantId);
    res.json(agent);
  });

  router.post('/agents/:agentId/revoke', async (req, res) => {
    const principal = principalOf(res);
    authorize(principal, 'manage-agents');
    const agent = await agents.get(tenantScopeOf(principal), req.params.agentId);
    authorize(principal, 'manage-agents', agent.tenantId);
    res.json(await agents.revoke(agent.tenantId, agent.id, new Date()));
  });
}
