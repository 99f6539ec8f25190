/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import type { Connection, Model } from 'mongoose';
import { Schema } from 'mongoose';
import { TenantRepository, type TenantId } from '@converge/store';

/**
 * An enrolled agent and its credential. Connection epochs are issued in Redis; `epoch` is the last one the
 * store issued before that (0 for agents enrolled since), the floor the Redis epochs continue above.
 */
export interface AgentDocument {
  _id: string;
  tenantId: string;
  secretHash: string;
  epoch: number;
  installTokenId: string;
  enrolledAt: Date;
  revokedAt: Date | null;
}

const agentSchema = new Schema<AgentDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    secretHash: { type: String, required: true },
    epoch: { type: Number, required: true, default: 0 },
    installTokenId: { type: String, required: true },
    enrolledAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
  },
  { versionKey: false },
);
// GET /agents?tenantId=… pages by _id within a tenant. Credential reads use the _id index alone.
agentSchema.index({ tenantId: 1, _id: 1 });

/** The fields a replica verifies a connection with. */
export type StoredCredential = Pick<AgentDocument, '_id' | 'tenantId' | 'secretHash' | 'epoch' | 'revokedAt'>;

export class AgentRepository extends TenantRepository<AgentDocument> {
  /**
   * The credentials of many agents in one query, for the credential cache's misses (a restarted replica
   * meets thousands of reconnecting agents at once). The filter is on `_id` alone, which FerretDB v1 serves
   * from its index: 1,000 agents in one `$in` cost about what 100 single reads do.
   */
  async credentials(agentIds: readonly string[]): Promise<StoredCredential[]> {
    return this.model
      .find({ _id: { $in: agentIds } })
      .select({ tenantId: 1, secretHash: 1, epoch: 1, revokedAt: 1 })
      .lean<StoredCredential[]>();
  }

  /** Revokes the credential; revoking again keeps the first time. Null when no such agent in the tenant. */
  async revoke(tenantId: TenantId, agentId: string, now: Date): Promise<AgentDocument | null> {
    const revoked = await this.model
      .findOneAndUpdate(
        this.scoped(tenantId, { _id: agentId, revokedAt: null }),
        { $set: { revokedAt: now } },
        { returnDocument: 'after' },
      )
      .lean<AgentDocument>();
    return revoked ?? this.findById(tenantId, agentId);
  }

  /** The tenants of agents the janitor found orphaned (it knows only their ids). */
  async tenantsOf(agentIds: readonly string[]): Promise<Map<string, string>> {
    const agents = await this.model
      .find({ _id: { $in: agentIds } })
      .select({ tenantId: 1 })
      .lean<Pick<AgentDocument, '_id' | 'tenantId'>[]>();
    return new Map(agents.map((agent) => [agent._id, agent.tenantId]));
  }
}

export function agentRepository(mongo: Connection): AgentRepository {
  const model: Model<AgentDocument> = mongo.model<AgentDocument>('Agent', agentSchema, 'agents');
  return new AgentRepository(model);
}
