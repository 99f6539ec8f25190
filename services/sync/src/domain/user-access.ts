import type { Role } from '@converge/auth';
import { ValidationError } from '@converge/errors';
import type { EffectiveAccessRecord } from '@converge/access';

/** A portal user: a person of a tenant with one role and, maybe, an end to their access. */
export interface PortalUser {
  _id: string;
  tenantId: string;
  personId: string;
  subject: string;
  role: Role;
  expiresAt: Date | null;
  removedAt: Date | null;
}

/** MSP roles act across every tenant, so only people of an MSP tenant may hold them. */
export function checkRoleFitsTenant(role: Role, tenant: { isMsp: boolean }): void {
  const mspRole = role === 'msp-admin' || role === 'msp-non-admin';
  if (mspRole && !tenant.isMsp) {
    throw new ValidationError('MSP roles are only for people of an MSP tenant', [
      { path: '/body/role', message: 'choose a tenant role for people of a customer tenant' },
    ]);
  }
  if (!mspRole && tenant.isMsp) {
    throw new ValidationError('people of an MSP tenant hold MSP roles', [
      { path: '/body/role', message: 'choose msp-admin or msp-non-admin' },
    ]);
  }
}

/** What the other services see of a user: a removed user keeps a record with no role, so it denies. */
export function accessRecordOf(user: PortalUser): EffectiveAccessRecord {
  return {
    userId: user._id,
    subject: user.subject,
    roles: user.removedAt === null ? [user.role] : [],
    tenantId: user.tenantId,
    expiresAt: user.expiresAt?.toISOString() ?? null,
  };
}
