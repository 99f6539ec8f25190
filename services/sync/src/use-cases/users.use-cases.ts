import { randomUUID } from 'node:crypto';
import type { EffectiveAccessStore, SignInIdentity } from '@converge/access';
import type { Principal, Role } from '@converge/auth';
import { ConflictError, NotFoundError, ValidationError } from '@converge/errors';
import { asTenantId, isDuplicateKeyError, type TenantScope } from '@converge/store';
import type { AuditRepository } from '../data-access/audit.repository.ts';
import type {
  AccessRequestDocument,
  AccessRequestRepository,
  UserDocument,
  UserRepository,
} from '../data-access/user.repository.ts';
import {
  accessRecordOf,
  checkMayGrant,
  checkMayJoin,
  checkRoleFitsTenant,
  invitationCodeHash,
  invitationLifetimeMs,
  newInvitationCode,
} from '../domain/user-access.ts';
import { auditActor, type Actor } from './actor.ts';
import type { PeopleUseCases } from './people.use-cases.ts';
import type { TenantUseCases } from './tenants.use-cases.ts';

export interface Grant {
  role: Role;
  expiresAt?: string | null;
}

/** What the API and the audit log show of a user: never the invitation code's hash. */
export function userView(user: UserDocument) {
  return {
    id: user._id,
    tenantId: user.tenantId,
    personId: user.personId,
    identity: user.identity ?? null,
    invitationExpiresAt: user.invitationExpiresAt,
    role: user.role,
    expiresAt: user.expiresAt,
    removedAt: user.removedAt,
    version: user.version,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

function identityOf(principal: Principal): SignInIdentity {
  return { issuer: principal.issuer, subject: principal.subject };
}

function expiryOf(grant: { expiresAt?: string | null }, now: Date): Date | null {
  if (grant.expiresAt === undefined || grant.expiresAt === null) return null;
  const expiresAt = new Date(grant.expiresAt);
  if (expiresAt.getTime() <= now.getTime()) {
    throw new ValidationError('the access would already have expired', [
      { path: '/body/expiresAt', message: 'must lie in the future' },
    ]);
  }
  return expiresAt;
}

interface UserUseCaseDeps {
  users: UserRepository;
  accessRequests: AccessRequestRepository;
  access: EffectiveAccessStore;
  audit: AuditRepository;
  tenants: TenantUseCases;
  people: PeopleUseCases;
}

/**
 * Users (a person with a role and maybe an expiry) and access requests. Every change is audited and then
 * written to the effective access in Redis, where every service reads it on the next request.
 */
export class UserUseCases {
  private readonly deps: UserUseCaseDeps;

  constructor(deps: UserUseCaseDeps) {
    this.deps = deps;
  }

  async live(scope: TenantScope, id: string): Promise<UserDocument> {
    const user = await this.deps.users.findOne(scope, { _id: id, removedAt: null });
    if (user === null) throw new NotFoundError('user not found');
    return user;
  }

  private async tenantOf(tenantId: string) {
    const tenant = await this.deps.tenants.live(tenantId);
    if (tenant === null)
      throw new ValidationError('the tenant does not exist', [
        { path: '/body/tenantId', message: 'no such tenant' },
      ]);
    return tenant;
  }

  /** A write that binds an identity: the unique index refuses a second user of it made at the same moment. */
  private async bound(write: Promise<UserDocument>): Promise<UserDocument> {
    try {
      return await write;
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new ConflictError('this sign-in identity is a user already');
      throw error;
    }
  }

  private async publish(user: UserDocument): Promise<void> {
    const record = accessRecordOf(user);
    if (record !== null) await this.deps.access.write(record);
  }

  /**
   * Makes a person a user: an invitation with its role and expiry, bound to nobody until the person redeems
   * its code (returned here once) with a verified sign-in. No admin names another person's sign-in identity.
   */
  async invite(
    actor: Actor,
    scope: TenantScope,
    input: Grant & { personId: string },
    now: Date,
  ): Promise<{ user: UserDocument; invitationCode: string }> {
    const person = await this.deps.people.live(scope, input.personId);
    checkRoleFitsTenant(input.role, await this.tenantOf(person.tenantId));
    checkMayGrant(actor.principal, input.role);
    const { code, hash } = newInvitationCode();
    const user = await this.deps.users.insert(asTenantId(person.tenantId), {
      _id: `user-${randomUUID()}`,
      personId: person._id,
      invitationCodeHash: hash,
      invitationExpiresAt: new Date(now.getTime() + invitationLifetimeMs),
      role: input.role,
      expiresAt: expiryOf(input, now),
      removedAt: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    await this.record(actor, user, 'created', undefined, user, now);
    return { user, invitationCode: code };
  }

  /**
   * Binds the invitation of a code to the redeeming person's verified sign-in identity, once: the code stops
   * working, and the user's access applies from the next request.
   */
  async redeemInvitation(principal: Principal, code: string, now: Date): Promise<UserDocument> {
    const invitation = await this.deps.users.findByInvitationCodeHash(invitationCodeHash(code));
    if (
      invitation === null ||
      invitation.removedAt !== null ||
      invitation.invitationExpiresAt === null ||
      invitation.invitationExpiresAt.getTime() <= now.getTime()
    ) {
      throw new NotFoundError('no such invitation, or it has expired');
    }
    checkMayJoin(principal, await this.tenantOf(invitation.tenantId));
    const identity = identityOf(principal);
    if ((await this.deps.users.findByIdentity(identity)) !== null) {
      throw new ConflictError('this sign-in identity is a user already');
    }
    const user = await this.bound(
      this.deps.users.update(asTenantId(invitation.tenantId), invitation._id, invitation.version, {
        $set: { identity, invitationExpiresAt: null, updatedAt: now },
        $unset: { invitationCodeHash: 1 },
      }),
    );
    await this.record({ principal, impersonator: undefined }, user, 'bound', invitation, user, now);
    await this.publish(user);
    return user;
  }

  async update(
    actor: Actor,
    scope: TenantScope,
    id: string,
    patch: Partial<Grant> & { version?: number },
    now: Date,
  ): Promise<UserDocument> {
    const current = await this.live(scope, id);
    checkMayGrant(actor.principal, current.role);
    const set: Partial<UserDocument> = { updatedAt: now };
    if (patch.role !== undefined) {
      checkRoleFitsTenant(patch.role, await this.tenantOf(current.tenantId));
      checkMayGrant(actor.principal, patch.role);
      set.role = patch.role;
    }
    if (patch.expiresAt !== undefined) set.expiresAt = expiryOf(patch, now);
    const updated = await this.deps.users.update(
      asTenantId(current.tenantId),
      id,
      patch.version ?? current.version,
      { $set: set },
    );
    await this.record(actor, updated, 'updated', current, updated, now);
    await this.publish(updated);
    return updated;
  }

  async remove(actor: Actor, scope: TenantScope, id: string, now: Date): Promise<void> {
    const current = await this.live(scope, id);
    checkMayGrant(actor.principal, current.role);
    // A removed invitation's code stops working with it.
    const removed = await this.deps.users.update(asTenantId(current.tenantId), id, current.version, {
      $set: { removedAt: now, invitationExpiresAt: null, updatedAt: now },
      $unset: { invitationCodeHash: 1 },
    });
    await this.record(actor, removed, 'deleted', current, undefined, now);
    await this.publish(removed);
  }

  private async record(
    actor: Actor,
    user: UserDocument,
    action: string,
    before: UserDocument | undefined,
    after: UserDocument | undefined,
    now: Date,
  ): Promise<void> {
    await this.deps.audit.record({
      tenantId: asTenantId(user.tenantId),
      actor: auditActor(actor),
      entityType: 'user',
      entityId: user._id,
      action,
      ...(before === undefined ? {} : { before: userView(before) }),
      ...(after === undefined ? {} : { after: userView(after) }),
      at: now,
    });
  }

  /**
   * Writes every bound user's effective access again: Redis holds nothing that cannot be rebuilt from here.
   */
  async rebuildEffectiveAccess(): Promise<number> {
    let count = 0;
    for await (const user of this.deps.users.all()) {
      await this.publish(user);
      count++;
    }
    return count;
  }

  /**
   * A signed-in person without access asks for it; asking again returns the pending request. The request
   * keeps the identity of the verified token it came with, which an approval binds.
   */
  async requestAccess(
    principal: Principal,
    input: { tenantId?: string; message?: string },
    now: Date,
  ): Promise<AccessRequestDocument> {
    const identity = identityOf(principal);
    const pending = await this.deps.accessRequests.findPendingByIdentity(identity);
    if (pending !== null) return pending;
    const tenantId = input.tenantId ?? principal.tenantId;
    const tenant = tenantId === undefined ? null : await this.deps.tenants.live(tenantId);
    if (tenant === null) {
      throw new ValidationError('name the tenant you ask to join', [
        { path: '/body/tenantId', message: 'no such tenant' },
      ]);
    }
    checkMayJoin(principal, tenant);
    return this.deps.accessRequests.insert(asTenantId(tenant._id), {
      _id: `access-request-${randomUUID()}`,
      identity,
      name: principal.name ?? null,
      email: principal.email ?? null,
      message: input.message ?? null,
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      userId: null,
      role: null,
      createdAt: now,
      version: 1,
    });
  }

  private async pending(scope: TenantScope, id: string): Promise<AccessRequestDocument> {
    const request = await this.deps.accessRequests.findById(scope, id);
    if (request === null) throw new NotFoundError('access request not found');
    if (request.status !== 'pending') throw new ConflictError(`the request was ${request.status} already`);
    return request;
  }

  /**
   * Grants the role: the requester becomes (or, after an expiry or removal, again becomes) a user, as the
   * tenant's person with their sign-in name, created when the directory does not know them yet.
   */
  async approve(
    actor: Actor,
    scope: TenantScope,
    id: string,
    grant: Grant,
    now: Date,
  ): Promise<AccessRequestDocument> {
    const request = await this.pending(scope, id);
    const tenant = await this.tenantOf(request.tenantId);
    checkRoleFitsTenant(grant.role, tenant);
    checkMayGrant(actor.principal, grant.role);
    const expiresAt = expiryOf(grant, now);
    const existing = await this.deps.users.findByIdentity(request.identity);
    let user: UserDocument;
    if (existing !== null) {
      if (existing.tenantId !== request.tenantId)
        throw new ConflictError('this identity is a user of another tenant');
      checkMayGrant(actor.principal, existing.role);
      user = await this.deps.users.update(asTenantId(existing.tenantId), existing._id, existing.version, {
        $set: { role: grant.role, expiresAt, removedAt: null, updatedAt: now },
      });
      await this.record(actor, user, 'updated', existing, user, now);
    } else {
      const upn = request.email?.includes('@') === true ? request.email : null;
      const person =
        (upn === null ? null : await this.deps.people.findByUpn(request.tenantId, upn)) ??
        (await this.deps.people.create(
          null,
          request.tenantId,
          {
            displayName: request.name ?? request.email ?? request.identity.subject,
            upn,
            email: request.email,
          },
          now,
        ));
      user = await this.bound(
        this.deps.users.insert(asTenantId(request.tenantId), {
          _id: `user-${randomUUID()}`,
          personId: person._id,
          identity: request.identity,
          invitationExpiresAt: null,
          role: grant.role,
          expiresAt,
          removedAt: null,
          version: 1,
          createdAt: now,
          updatedAt: now,
        }),
      );
      await this.record(actor, user, 'created', undefined, user, now);
    }
    await this.publish(user);
    return this.decide(actor, request, 'approved', now, { userId: user._id, role: grant.role });
  }

  async deny(actor: Actor, scope: TenantScope, id: string, now: Date): Promise<AccessRequestDocument> {
    return this.decide(actor, await this.pending(scope, id), 'denied', now, {});
  }

  private async decide(
    actor: Actor,
    request: AccessRequestDocument,
    status: 'approved' | 'denied',
    now: Date,
    extra: Partial<AccessRequestDocument>,
  ): Promise<AccessRequestDocument> {
    const decided = await this.deps.accessRequests.update(
      asTenantId(request.tenantId),
      request._id,
      request.version,
      {
        $set: { status, decidedBy: actor.principal.subject, decidedAt: now, ...extra },
      },
    );
    await this.deps.audit.record({
      tenantId: asTenantId(request.tenantId),
      actor: auditActor(actor),
      entityType: 'access-request',
      entityId: request._id,
      action: status,
      before: { status: request.status },
      after: { status, ...extra },
      at: now,
    });
    return decided;
  }
}
