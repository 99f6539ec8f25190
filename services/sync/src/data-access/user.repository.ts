/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';
import type { SignInIdentity } from '@converge/access';
import type { Role } from '@converge/auth';
import { TenantRepository } from '@converge/store';
import type { PortalUser } from '../domain/user-access.ts';

export interface UserDocument extends PortalUser {
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type AccessRequestStatus = 'pending' | 'approved' | 'denied';

export interface AccessRequestDocument {
  _id: string;
  /** The tenant the requester asked to join: its admins decide. */
  tenantId: string;
  /** From the requester's verified token: the identity an approval binds. */
  identity: SignInIdentity;
  name: string | null;
  email: string | null;
  message: string | null;
  status: AccessRequestStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  /** Set on approval: the user the request became. */
  userId: string | null;
  role: Role | null;
  createdAt: Date;
  version: number;
}

const identitySchema = new Schema<SignInIdentity>(
  { issuer: { type: String, required: true }, subject: { type: String, required: true } },
  { _id: false },
);

const userSchema = new Schema<UserDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    personId: { type: String, required: true },
    // Both absent (not null) while unset, so that the sparse unique indexes below skip them.
    identity: { type: identitySchema, default: undefined },
    invitationCodeHash: { type: String, default: undefined },
    invitationExpiresAt: { type: Date, default: null },
    role: { type: String, required: true },
    expiresAt: { type: Date, default: null },
    removedAt: { type: Date, default: null },
    version: { type: Number, required: true, default: 1 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'users' },
);
// One user per sign-in identity: the effective access in Redis is keyed by it. Invitations have none yet.
userSchema.index({ 'identity.issuer': 1, 'identity.subject': 1 }, { unique: true, sparse: true });
// A redemption finds its invitation by the code's hash; two invitations never share a code.
userSchema.index({ invitationCodeHash: 1 }, { unique: true, sparse: true });
// The users list of a tenant.
userSchema.index({ tenantId: 1, _id: 1 });

const accessRequestSchema = new Schema<AccessRequestDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    identity: { type: identitySchema, required: true },
    name: { type: String, default: null },
    email: { type: String, default: null },
    message: { type: String, default: null },
    status: { type: String, required: true },
    decidedBy: { type: String, default: null },
    decidedAt: { type: Date, default: null },
    userId: { type: String, default: null },
    role: { type: String, default: null },
    createdAt: { type: Date, required: true },
    version: { type: Number, required: true, default: 1 },
  },
  { versionKey: false, collection: 'access_requests' },
);
// Admins list a tenant's pending requests (the notification in the portal).
accessRequestSchema.index({ tenantId: 1, status: 1 });
// A requester asking twice gets the pending request back instead of a second one.
accessRequestSchema.index({ 'identity.issuer': 1, 'identity.subject': 1, status: 1 });

export class UserRepository extends TenantRepository<UserDocument> {
  /** The user of a sign-in identity in any tenant: an identity is a user of one tenant at most. */
  async findByIdentity({ issuer, subject }: SignInIdentity): Promise<UserDocument | null> {
    return this.model
      .findOne({ 'identity.issuer': issuer, 'identity.subject': subject })
      .lean<UserDocument>();
  }

  /** The invitation a code was issued for, in any tenant: the code is all the redeeming person knows. */
  async findByInvitationCodeHash(hash: string): Promise<UserDocument | null> {
    return this.model.findOne({ invitationCodeHash: hash }).lean<UserDocument>();
  }

  /** Every user, for rebuilding the effective access records in Redis. */
  async *all(): AsyncGenerator<UserDocument> {
    for await (const user of this.model.find().lean<UserDocument[]>().cursor()) yield user;
  }
}

export class AccessRequestRepository extends TenantRepository<AccessRequestDocument> {
  async findPendingByIdentity({ issuer, subject }: SignInIdentity): Promise<AccessRequestDocument | null> {
    return this.model
      .findOne({ 'identity.issuer': issuer, 'identity.subject': subject, status: 'pending' })
      .lean<AccessRequestDocument>();
  }
}

export function userModels(conn: Connection): {
  users: Model<UserDocument>;
  accessRequests: Model<AccessRequestDocument>;
} {
  return {
    users: conn.model<UserDocument>('User', userSchema),
    accessRequests: conn.model<AccessRequestDocument>('AccessRequest', accessRequestSchema),
  };
}
