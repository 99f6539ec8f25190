/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import type { OnboardingStatus } from '@converge/contracts';
import { scopedFilter, type TenantScope } from '@converge/store';
import { Schema, type Connection, type Model, type QueryFilter } from 'mongoose';

/** The sessions service's projection of a computer (from identity's `computer.changed` snapshots). */
export interface ComputerDocument {
  _id: string;
  tenantId: string;
  name: string;
  /** The agent commands go to: the first pathway identity lists. Null while the computer has none. */
  agentId: string | null;
  onboardingStatus: OnboardingStatus;
  excludedFromMaintenance: boolean;
  deleted: boolean;
  version: number;
}

const computerSchema = new Schema<ComputerDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    agentId: { type: String, default: null },
    onboardingStatus: { type: String, required: true },
    excludedFromMaintenance: { type: Boolean, required: true },
    deleted: { type: Boolean, required: true },
    version: { type: Number, required: true },
  },
  { versionKey: false },
);
// "Run now" for a tenant reads its computers in id order.
computerSchema.index({ tenantId: 1, _id: 1 });

export class ComputerRepository {
  private readonly model: Model<ComputerDocument>;

  constructor(conn: Connection) {
    this.model = conn.model<ComputerDocument>('Computer', computerSchema, 'computers');
  }

  get mongooseModel(): Model<ComputerDocument> {
    return this.model;
  }

  find(id: string): Promise<ComputerDocument | null> {
    return this.model.findById(id).lean<ComputerDocument>();
  }

  /**
   * Writes the snapshot unless the projection already holds this version or a later one; returns the
   * previous row (null when there was none) when it wrote, `undefined` when the event was stale.
   */
  async upsertIfNewer(doc: ComputerDocument): Promise<ComputerDocument | null | undefined> {
    const previous = await this.find(doc._id);
    if (previous !== null && previous.version >= doc.version) return undefined;
    if (previous === null) {
      try {
        await this.model.create(doc);
        return null;
      } catch (error) {
        if ((error as { code?: unknown }).code === 11000) return this.upsertIfNewer(doc);
        throw error;
      }
    }
    const { _id, ...fields } = doc;
    const updated = await this.model.updateOne({ _id, version: previous.version }, { $set: fields });
    return updated.matchedCount === 1 ? previous : this.upsertIfNewer(doc);
  }

  /** The maintainable computers in scope (one tenant, several, or all), in id order. */
  async maintainable(scope: TenantScope, ids?: readonly string[]): Promise<ComputerDocument[]> {
    const filter = scopedFilter(scope, {
      deleted: false,
      ...(ids === undefined ? {} : { _id: { $in: [...ids] } }),
    }) as QueryFilter<ComputerDocument>;
    return this.model.find(filter).sort({ _id: 1 }).lean<ComputerDocument[]>();
  }
}
