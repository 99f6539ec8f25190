/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import type { Connection, Model } from 'mongoose';
import { Schema } from 'mongoose';

/**
 * Whether this installation has issued connection epochs from Redis: the one fact about epochs that must
 * outlive Redis. Without it, a replica meeting an empty epochs hash could not tell a new installation (start
 * at 1) from a Redis that lost its data (start above every epoch issued before).
 */
interface EpochsIssuedDocument {
  _id: string;
  since: Date;
}

const epochsIssuedSchema = new Schema<EpochsIssuedDocument>(
  {
    _id: { type: String, required: true },
    since: { type: Date, required: true },
  },
  { versionKey: false },
);

const issuedId = 'epochs-issued';

export class ConnectionEpochRepository {
  private readonly model: Model<EpochsIssuedDocument>;

  constructor(model: Model<EpochsIssuedDocument>) {
    this.model = model;
  }

  async wereIssued(): Promise<boolean> {
    return (await this.model.exists({ _id: issuedId })) !== null;
  }

  /** Idempotent: the first time is kept. */
  async markIssued(now: Date): Promise<void> {
    await this.model.updateOne({ _id: issuedId }, { $setOnInsert: { since: now } }, { upsert: true });
  }
}

export function connectionEpochRepository(mongo: Connection): ConnectionEpochRepository {
  return new ConnectionEpochRepository(
    mongo.model<EpochsIssuedDocument>('GatewayState', epochsIssuedSchema, 'gateway_state'),
  );
}
