/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';

/** The latest connection (epoch) the gateway reported for an agent, so an older event is told apart. */
interface AgentConnectionDocument {
  _id: string;
  epoch: number;
  online: boolean;
}

const agentConnectionSchema = new Schema<AgentConnectionDocument>(
  {
    _id: { type: String, required: true },
    epoch: { type: Number, required: true },
    online: { type: Boolean, required: true },
  },
  { versionKey: false },
);

export class AgentConnectionRepository {
  private readonly model: Model<AgentConnectionDocument>;

  constructor(conn: Connection) {
    this.model = conn.model<AgentConnectionDocument>(
      'AgentConnection',
      agentConnectionSchema,
      'agent_connections',
    );
  }

  /**
   * Records a connect or disconnect unless a later connection is known; false when the event is older than
   * what is recorded (a disconnect of a connection the agent has already replaced), so it must not act.
   */
  async record(agentId: string, epoch: number, online: boolean): Promise<boolean> {
    const current = await this.model.findById(agentId).lean<AgentConnectionDocument>();
    if (
      current !== null &&
      (current.epoch > epoch || (current.epoch === epoch && !current.online && online))
    ) {
      return false;
    }
    await this.model.updateOne({ _id: agentId }, { $set: { epoch, online } }, { upsert: true });
    return true;
  }
}
