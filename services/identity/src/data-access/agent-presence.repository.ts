/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';
import { writeEachIfNewer } from './upsert-if-newer.ts';

/**
 * Whether each agent is connected, from the gateway's connected/disconnected events. Kept per agent (not on the
 * computer) because an agent connects before its first facts report identifies it: the owner that attaches an
 * agent reads it here.
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

export interface PresenceChange {
  agentId: string;
  epoch: number;
  online: boolean;
  at: Date;
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

  /**
   * Records connection changes in one request. Each is written only if it ranks above the recorded one, so
   * changes recorded twice or late, by any number of writers, leave the newest.
   */
  async record(changes: readonly PresenceChange[]): Promise<void> {
    await writeEachIfNewer(
      this.model,
      changes.map((change) => {
        const rank = change.epoch * 2 + (change.online ? 0 : 1);
        return {
          updateOne: {
            filter: { _id: change.agentId, rank: { $lt: rank } },
            update: { $set: { rank, online: change.online, changedAt: change.at } },
            upsert: true,
          },
        };
      }),
    );
  }

  /** The agents among `agentIds` that are connected now. */
  async onlineAmong(agentIds: readonly string[]): Promise<Set<string>> {
    if (agentIds.length === 0) return new Set();
    const rows = await this.model
      .find({ _id: { $in: [...agentIds] } }, { online: 1 })
      .lean<Pick<AgentPresenceDocument, '_id' | 'online'>[]>();
    return new Set(rows.filter((row) => row.online).map((row) => row._id));
  }
}
