/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';
import { upsertIfNewer } from './upsert-if-newer.ts';

/**
 * Whether each agent is connected, from the gateway's connected/disconnected events. Kept per agent (not on the
 * computer) because an agent connects before its first facts report identifies it.
 */
interface AgentPresenceDocument {
  /** The agent id. */
  _id: string;
  /**
   * `epoch * 2`, plus one once that connection ended: a late `connected` of an old connection, or of the
   * current one after its `disconnected`, ranks lower and changes nothing.
   */
  rank: number;
  online: boolean;
  changedAt: Date;
}

const presenceSchema = new Schema<AgentPresenceDocument>(
  {
    _id: { type: String, required: true },
    rank: { type: Number, required: true },
    online: { type: Boolean, required: true },
    changedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

export class AgentPresenceRepository {
  private readonly model: Model<AgentPresenceDocument>;

  constructor(conn: Connection) {
    this.model = conn.model<AgentPresenceDocument>('AgentPresence', presenceSchema, 'agentpresence');
  }

  /** Records a connection change; false when a newer one is already recorded. */
  async record(agentId: string, epoch: number, online: boolean, at: Date): Promise<boolean> {
    return upsertIfNewer(this.model, agentId, 'rank', epoch * 2 + (online ? 0 : 1), {
      online,
      changedAt: at,
    });
  }

  /** The agents among `agentIds` that are connected now. */
  async onlineAmong(agentIds: readonly string[]): Promise<string[]> {
    const online: string[] = [];
    for (const agentId of agentIds) {
      const row = await this.model.findById(agentId).lean<AgentPresenceDocument>();
      if (row?.online === true) online.push(agentId);
    }
    return online;
  }
}
