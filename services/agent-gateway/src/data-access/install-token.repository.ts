/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import type { Connection, Model } from 'mongoose';
import { Schema } from 'mongoose';
import { TenantRepository, type TenantId } from '@converge/store';

/** An install token: the `<id>.<secret>` an installer carries; only a SHA-256 of the secret is kept. */
export interface InstallTokenDocument {
  _id: string;
  tenantId: string;
  secretHash: string;
  description: string | null;
  expiresAt: Date | null;
  maxUses: number | null;
  uses: number;
  revokedAt: Date | null;
  createdBy: string;
  createdAt: Date;
}

const installTokenSchema = new Schema<InstallTokenDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    secretHash: { type: String, required: true },
    description: { type: String, default: null },
    expiresAt: { type: Date, default: null },
    maxUses: { type: Number, default: null },
    uses: { type: Number, required: true, default: 0 },
    revokedAt: { type: Date, default: null },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);
// Listing a tenant's tokens pages by _id within the tenant (GET /install-tokens?tenantId=…).
installTokenSchema.index({ tenantId: 1, _id: 1 });

export class InstallTokenRepository extends TenantRepository<InstallTokenDocument> {
  /** Enrollment looks a token up before it knows the tenant: the token names it. */
  async findForEnrollment(id: string): Promise<InstallTokenDocument | null> {
    return this.model.findById(id).lean<InstallTokenDocument>();
  }

  /**
   * Counts one use if nobody else used the token since it was read (`uses` unchanged) and it is still not
   * revoked: a compare-and-set, so two enrollments racing for the last use cannot both win.
   */
  async takeUse(token: InstallTokenDocument): Promise<boolean> {
    const result = await this.model.updateOne(
      { _id: token._id, uses: token.uses, revokedAt: null },
      { $inc: { uses: 1 } },
    );
    return result.modifiedCount === 1;
  }

  async revoke(tenantId: TenantId, id: string, now: Date): Promise<InstallTokenDocument | null> {
    return this.model
      .findOneAndUpdate(
        this.scoped(tenantId, { _id: id }),
        { $set: { revokedAt: now } },
        { returnDocument: 'after' },
      )
      .lean<InstallTokenDocument>();
  }
}

export function installTokenRepository(mongo: Connection): InstallTokenRepository {
  const model: Model<InstallTokenDocument> = mongo.model<InstallTokenDocument>(
    'InstallToken',
    installTokenSchema,
    'install_tokens',
  );
  return new InstallTokenRepository(model);
}
