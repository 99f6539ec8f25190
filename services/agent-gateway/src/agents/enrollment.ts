import { randomBytes, randomUUID } from 'node:crypto';
import { UnauthorizedError } from '@converge/errors';
import type { EnrollRequest } from '@converge/proto';
import { asTenantId } from '@converge/store';
import type { AuthenticatedAgent } from '../connections/agent-connection.ts';
import type { ConnectionEpochs } from '../credentials/connection-epochs.ts';
import type { CredentialCache } from '../credentials/credential-cache.ts';
import type { AgentRepository } from '../data-access/agent.repository.ts';
import type { InstallTokenRepository } from '../data-access/install-token.repository.ts';
import {
  bearerCredential,
  hashSecret,
  installTokenRefusal,
  parseSecretPair,
  verifiedTenant,
} from '../domain/credential.ts';

export interface CredentialStores {
  installTokens: InstallTokenRepository;
  agents: AgentRepository;
  credentials: CredentialCache;
}

/** 256 random bits, base64url: the secret half of install tokens and agent credentials. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

// One answer for every refusal, so a caller cannot tell a wrong secret from a revoked or used-up token.
const refused = () => new UnauthorizedError('the install token is unknown, revoked, expired or used up');
const casAttempts = 5;

/**
 * Exchanges an install token, once, for the agent's own credential (the one use case behind both the HTTP
 * and the gRPC `Enroll`). The agent's tenant is the token's; nothing the agent sends can choose it.
 */
export async function enrollAgent(
  stores: CredentialStores,
  request: Pick<EnrollRequest, 'installToken'>,
  now: Date,
): Promise<{ agentId: string; credentialSecret: string; tenantId: string }> {
  const parsed = parseSecretPair(request.installToken);
  if (parsed === undefined) throw refused();
  const secretHash = hashSecret(parsed.secret);
  for (let attempt = 0; attempt < casAttempts; attempt++) {
    const token = await stores.installTokens.findForEnrollment(parsed.id);
    if (token?.secretHash !== secretHash || installTokenRefusal(token, now) !== undefined) throw refused();
    if (!(await stores.installTokens.takeUse(token))) continue;
    const agentId = randomUUID();
    const credentialSecret = newSecret();
    const credentialHash = hashSecret(credentialSecret);
    await stores.agents.insert(asTenantId(token.tenantId), {
      _id: agentId,
      secretHash: credentialHash,
      epoch: 0,
      installTokenId: token._id,
      enrolledAt: now,
      revokedAt: null,
    });
    await stores.credentials.enrolled(agentId, {
      revoked: false,
      tenantId: token.tenantId,
      secretHash: credentialHash,
      epochFloor: 0,
    });
    return { agentId, credentialSecret, tenantId: token.tenantId };
  }
  // Every attempt lost a race for a use: the token is being used up right now.
  throw refused();
}

export interface ConnectionCredentials {
  credentials: CredentialCache;
  epochs: ConnectionEpochs;
}

/**
 * Verifies an `authorization` value against the cached credential and takes the connection's epoch from
 * Redis; null for anything not accepted. No store round trip unless the credential is in neither cache.
 */
export async function authenticateAgent(
  deps: ConnectionCredentials,
  authorization: string | undefined,
): Promise<AuthenticatedAgent | null> {
  const credential = bearerCredential(authorization);
  if (credential === undefined) return null;
  const record = await deps.credentials.get(credential.id);
  const tenantId = verifiedTenant(record, hashSecret(credential.secret));
  if (tenantId === undefined || record === undefined || record.revoked) return null;
  const epoch = await deps.epochs.next(credential.id, record.epochFloor);
  // A revocation heard while the epoch was taken still refuses the connection.
  if (deps.credentials.isRevoked(credential.id)) return null;
  return { agentId: credential.id, tenantId, epoch };
}
