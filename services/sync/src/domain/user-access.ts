import { createHash, randomBytes } from 'node:crypto';
import { canGrant, type EffectiveAccessRecord, type SignInIdentity } from '@converge/access';
import { isMspUser, type Principal, type Role } from '@converge/auth';
import { ForbiddenError, ValidationError } from '@converge/errors';

/**
 * A portal user: a person of a tenant with one role and, maybe, an end to their access. A user made by an
 * admin starts as an invitation, with no identity; only a verified sign-in binds it to one (the person redeems
 * the invitation's code, or an admin approves the person's access request), and only then does it grant access.
 */
export interface PortalUser {
  _id: string;
  tenantId: string;
  personId: string;
  /** Absent until bound; never changed afterwards. */
  identity?: SignInIdentity;
  /** SHA-256 of the invitation's code while it can be redeemed; absent once bound. */
  invitationCodeHash?: string;
  /** When the invitation's code stops working; null once bound. */
  invitationExpiresAt: Date | null;
  role: Role;
  expiresAt: Date | null;
  removedAt: Date | null;
}

/** How long an invitation's code can be redeemed: it is a bearer secret sent to the person out of band. */
export const invitationLifetimeMs = 7 * 24 * 60 * 60 * 1000;

/** A new invitation code and the hash stored in its place (the code is shown once, to the inviting admin). */
export function newInvitationCode(): { code: string; hash: string } {
  const code = randomBytes(24).toString('base64url');
  return { code, hash: invitationCodeHash(code) };
}

export function invitationCodeHash(code: string): string {
  return createHash('sha256').update(code).digest('hex');
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

/**
 * The rights ceiling: whoever grants, changes or removes a user's role must be able to grant that role
 * (`canGrant`), so a tenant admin never makes or touches a user with more rights than its own.
 */
export function checkMayGrant(grantor: Principal, role: Role): void {
  if (!canGrant(grantor, role)) throw new ForbiddenError(`this account may not grant the role ${role}`);
}

/**
 * A sign-in identity becomes a user of a tenant only on its own, verified request (an access request or an
 * invitation's redemption), and never as an application. An identity the identity provider already makes an
 * MSP user would lose every other tenant by becoming a customer tenant's user, so that is refused: otherwise
 * a customer's admin could talk an MSP admin into a demotion.
 */
export function checkMayJoin(principal: Principal, tenant: { isMsp: boolean }): void {
  if (principal.kind !== 'user') throw new ForbiddenError('an application cannot become a user');
  if (isMspUser(principal) && !tenant.isMsp) {
    throw new ForbiddenError('an MSP user already has access to every tenant');
  }
}

/**
 * What the other services see of a user, null for an invitation (no identity to key it by). A removed user
 * keeps a record with no role, so it denies.
 */
export function accessRecordOf(user: PortalUser): EffectiveAccessRecord | null {
  if (user.identity === undefined) return null;
  return {
    userId: user._id,
    issuer: user.identity.issuer,
    subject: user.identity.subject,
    roles: user.removedAt === null ? [user.role] : [],
    tenantId: user.tenantId,
    expiresAt: user.expiresAt?.toISOString() ?? null,
  };
}
