import type { Router } from 'express';
import { authorize, tenantScopeOf } from '@converge/access';
import { principalOf } from '@converge/http';
import type { InstallTokenService } from '../../agents/install-tokens.ts';

/** Install tokens of a tenant: created (the token shown once), listed, revoked. */
export function installTokenRoutes(router: Router, tokens: InstallTokenService): void {
  router.post('/install-tokens', async (req, res) => {
    const principal = principalOf(res);
    const body = req.body as { tenantId: string; description?: string; expiresAt?: string; maxUses?: number };
    authorize(principal, 'manage-agents', body.tenantId);
    const created = await tokens.create(body, principal.subject, new Date());
    res.status(201).json(created);
  });

  router.get('/install-tokens', async (req, res) => {
    const principal = principalOf(res);
    const query = req.query as { tenantId?: string; limit?: string; cursor?: string };
    authorize(principal, 'manage-agents', query.tenantId);
    res.json(
      await tokens.list(tenantScopeOf(principal), {
        ...(query.tenantId === undefined ? {} : { tenantId: query.tenantId }),
        ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      }),
    );
  });

  router.delete('/install-tokens/:tokenId', async (req, res) => {
    const principal = principalOf(res);
    authorize(principal, 'manage-agents');
    const token = await tokens.get(tenantScopeOf(principal), req.params.tokenId);
    authorize(principal, 'manage-agents', token.tenantId);
    await tokens.revoke(token.tenantId, token.id, new Date());
    res.status(204).end();
  });
}
