import { randomUUID } from 'node:crypto';
import { ValidationError } from '@converge/errors';
import { asTenantId, type Page, type TenantScope } from '@converge/store';
import type {
  InstallTokenDocument,
  InstallTokenRepository,
} from '../data-access/install-token.repository.ts';
import { hashSecret } from '../domain/credential.ts';
import { newSecret } from './enrollment.ts';

export interface InstallTokenView {
  id: string;
  tenantId: string;
  description: string | null;
  expiresAt: string | null;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
  createdBy: string;
  createdAt: string;
}

function view(token: InstallTokenDocument): InstallTokenView {
  return {
    id: token._id,
    tenantId: token.tenantId,
    description: token.description,
    expiresAt: token.expiresAt?.toISOString() ?? null,
    maxUses: token.maxUses,
    uses: token.uses,
    revokedAt: token.revokedAt?.toISOString() ?? null,
    createdBy: token.createdBy,
    createdAt: token.createdAt.toISOString(),
  };
}

export interface NewInstallToken {
  tenantId: string;
  description?: string;
  expiresAt?: string;
  maxUses?: number;
}

export type InstallTokenService = ReturnType<typeof installTokenService>;

export function installTokenService(tokens: InstallTokenRepository) {
  return {
    /** The token (`<id>.<secret>`) is in this answer only; the gateway keeps a hash of the secret. */
    async create(
      request: NewInstallToken,
      createdBy: string,
      now: Date,
    ): Promise<InstallTokenView & { token: string }> {
      const expiresAt = request.expiresAt === undefined ? null : new Date(request.expiresAt);
      if (expiresAt !== null && expiresAt.getTime() <= now.getTime()) {
        throw new ValidationError('the token would already be expired', [
          { path: '/body/expiresAt', message: 'must be in the future' },
        ]);
      }
      const id = randomUUID();
      const secret = newSecret();
      const created = await tokens.insert(asTenantId(request.tenantId), {
        _id: id,
        secretHash: hashSecret(secret),
        description: request.description ?? null,
        expiresAt,
        maxUses: request.maxUses ?? null,
        uses: 0,
        revokedAt: null,
        createdBy,
        createdAt: now,
      });
      return { ...view(created), token: `${id}.${secret}` };
    },

    async list(
      scope: TenantScope,
      request: { tenantId?: string; limit?: number; cursor?: string },
    ): Promise<Page<InstallTokenView>> {
      const page = await tokens.list(scope, {
        ...(request.tenantId === undefined ? {} : { filter: { tenantId: request.tenantId } }),
        ...(request.limit === undefined ? {} : { limit: request.limit }),
        ...(request.cursor === undefined ? {} : { cursor: request.cursor }),
      });
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },

    async get(scope: TenantScope, id: string): Promise<InstallTokenView> {
      return view(await tokens.getById(scope, id));
    },

    async revoke(tenantId: string, id: string, now: Date): Promise<void> {
      await tokens.revoke(asTenantId(tenantId), id, now);
    },
  };
}
