/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';

interface GenerationRow {
  _id: string;
  generation: number;
}

const generationSchema = new Schema<GenerationRow>(
  { _id: { type: String, required: true }, generation: { type: Number, required: true } },
  { versionKey: false },
);

const estateId = 'estate';

/**
 * A counter every change to what resolution reads (catalog, deployments, directory) moves on. Each replica
 * caches the prepared estate with the generation it was built at and rebuilds when the counter moved, so a
 * change applied by any replica (from a REST call or a consumed event) reaches every replica's next answer.
 */
export class EstateGenerationRepository {
  private readonly model: Model<GenerationRow>;

  constructor(conn: Connection) {
    this.model = conn.model<GenerationRow>('EstateGeneration', generationSchema, 'estateGenerations');
  }

  async current(): Promise<number> {
    const row = await this.model.findById(estateId).lean<GenerationRow>();
    return row?.generation ?? 0;
  }

  async advance(): Promise<void> {
    await this.model.updateOne({ _id: estateId }, { $inc: { generation: 1 } }, { upsert: true });
  }
}
