import type { Principal } from '@converge/auth';
import type { AuditActor } from '../data-access/audit.repository.ts';

/** Who makes a change: the effective principal and, for an impersonated request, the MSP admin behind it. */
export interface Actor {
  principal: Principal;
  impersonator: Principal | undefined;
}

export function auditActor(actor: Actor): AuditActor {
  return { subject: actor.principal.subject, impersonatedBy: actor.impersonator?.subject ?? null };
}

/** The directory sync writes as itself. */
export const syncActor: AuditActor = { subject: 'converge-sync', impersonatedBy: null };
