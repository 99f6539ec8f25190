import { isRole, type Principal, type Role } from '@converge/auth';
import { UnavailableError } from '@converge/errors';
import type { Redis } from 'ioredis';

/** Who signed in: a subject is unique only within its issuer, so the two together name one identity. */
export interface SignInIdentity {
  issuer: string;
  subject: string;
}

/**
 * A portal user's access as the sync service last granted it (ARCHITECTURE.md §6): written to Redis on every
 * change of role, tenant or expiry, and rebuilt from the sync service's database at its start. Only a user bound
 * to a verified sign-in identity has a record; an invitation not yet redeemed has none.
 */
export interface EffectiveAccessRecord extends SignInIdentity {
  userId: string;
  /** Empty when the user was removed: a removed user keeps no access, whatever the token says. */
  roles: Role[];
  /** The user's home tenant: the scope of tenant users; MSP users act across tenants. */
  tenantId: string;
  /** ISO instant after which the user has no access; null while unlimited. */
  expiresAt: string | null;
}

export const defaultAccessKeyPrefix = 'converge:access:';

/** Reads and writes the records; the sync service is the only writer, every service reads. */
export interface EffectiveAccessStore {
  write(record: EffectiveAccessRecord): Promise<void>;
  forIdentity(identity: SignInIdentity): Promise<EffectiveAccessRecord | null>;
  forUser(userId: string): Promise<EffectiveAccessRecord | null>;
}

function parseRecord(text: string | null): EffectiveAccessRecord | null {
  if (text === null) return null;
  const raw = JSON.parse(text) as Partial<EffectiveAccessRecord>;
  if (
    typeof raw.userId !== 'string' ||
    typeof raw.issuer !== 'string' ||
    typeof raw.subject !== 'string' ||
    typeof raw.tenantId !== 'string'
  ) {
    return null;
  }
  return {
    userId: raw.userId,
    issuer: raw.issuer,
    subject: raw.subject,
    roles: Array.isArray(raw.roles) ? raw.roles.filter(isRole) : [],
    tenantId: raw.tenantId,
    expiresAt: typeof raw.expiresAt === 'string' ? raw.expiresAt : null,
  };
}

/**
 * Records live under two keys, by sign-in identity (every request) and by user id (impersonation). Neither has
 * a TTL: an expired record must stay readable so that it denies, instead of falling back to the token's roles.
 * The identity key encodes issuer and subject, so no subject of one issuer can name another issuer's identity.
 */
export function effectiveAccessStore(redis: Redis, keyPrefix = defaultAccessKeyPrefix): EffectiveAccessStore {
  const identityKey = ({ issuer, subject }: SignInIdentity) =>
    `${keyPrefix}identity:${encodeURIComponent(issuer)}:${encodeURIComponent(subject)}`;
  const userKey = (userId: string) => `${keyPrefix}user:${userId}`;
  async function read(key: string): Promise<EffectiveAccessRecord | null> {
    try {
      return parseRecord(await redis.get(key));
    } catch (error) {
      // Failing closed: without the record we cannot tell an expired user from a current one.
      throw new UnavailableError('access cannot be checked right now', { cause: error });
    }
  }
  return {
    async write(record) {
      const text = JSON.stringify(record);
      await redis.multi().set(identityKey(record), text).set(userKey(record.userId), text).exec();
    },
    forIdentity: (identity) => read(identityKey(identity)),
    forUser: (userId) => read(userKey(userId)),
  };
}

/**
 * The principal a request acts as: a granted record overrides a person's token roles and tenant, and an
 * expired or removed one leaves no role at all (so every authorization refuses). Without a record the token's
 * own app roles apply, which is how identity-provider-assigned roles keep working. An application
 * (client-credentials) token is never overridden: users are people, and no user record can speak for a
 * partner integration, whatever identity a record names.
 */
export function effectivePrincipal(
  principal: Principal,
  record: EffectiveAccessRecord | null,
  now: Date,
): Principal {
  if (record === null || principal.kind === 'client') return principal;
  const expired = record.expiresAt !== null && Date.parse(record.expiresAt) <= now.getTime();
  return { ...principal, roles: expired ? [] : [...record.roles], tenantId: record.tenantId };
}

export type EffectiveAccessResolver = (principal: Principal) => Promise<Principal>;

/** Maps a token's principal to its effective one, reading Redis on every call so changes apply at once. */
export function createEffectiveAccess(store: EffectiveAccessStore): EffectiveAccessResolver {
  return async (principal) =>
    principal.kind === 'client'
      ? principal
      : effectivePrincipal(principal, await store.forIdentity(principal), new Date());
}
