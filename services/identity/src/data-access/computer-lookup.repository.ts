/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';

/**
 * Which computers hold a hardware UUID, a serial key or an agent, keyed by `_id`. FerretDB v1 answers only
 * `_id` equality from an index (any other filter scans the collection), so identification looks computers up
 * here, one `_id` read per identifier. The computers collection stays the truth: entries are added after the
 * computer is written and removed after it lets go, readers check every computer they load against the key,
 * and a stale or missing entry is harmless (see `ComputerRepository.holderOfIdentityKey`).
 */
interface ComputerLookupDocument {
  /** `uuid:<canonical uuid>`, `serial:<manufacturer>:<serial>` or `agent:<agent id>`. */
  _id: string;
  computerIds: string[];
}

const lookupSchema = new Schema<ComputerLookupDocument>(
  { _id: { type: String, required: true }, computerIds: { type: [String], default: [] } },
  { versionKey: false },
);

export const lookupKeys = {
  hardwareUuid: (uuid: string) => `uuid:${uuid}`,
  /** `serialKey` already starts with `serial:`. */
  serial: (serialKey: string) => serialKey,
  agent: (agentId: string) => `agent:${agentId}`,
};

export class ComputerLookupRepository {
  private readonly model: Model<ComputerLookupDocument>;

  constructor(conn: Connection) {
    this.model = conn.model<ComputerLookupDocument>('ComputerLookup', lookupSchema, 'computerlookups');
  }

  async computerIds(key: string): Promise<string[]> {
    const doc = await this.model.findById(key).lean<ComputerLookupDocument>();
    return doc?.computerIds ?? [];
  }

  async add(keys: readonly string[], computerId: string): Promise<void> {
    for (const key of await this.insertNew(keys, computerId)) {
      await this.model.updateOne({ _id: key }, { $addToSet: { computerIds: computerId } });
    }
  }

  /**
   * Inserts the keys in one request (most keys of a write are new: a new machine's), and returns those that
   * exist already (another computer holds them, or another writer inserted them first).
   */
  private async insertNew(keys: readonly string[], computerId: string): Promise<string[]> {
    if (keys.length === 0) return [];
    try {
      await this.model.insertMany(
        keys.map((key) => ({ _id: key, computerIds: [computerId] })),
        { ordered: false },
      );
      return [];
    } catch (error) {
      const failed = (error as { writeErrors?: { index: number; code?: number }[] }).writeErrors;
      if (failed === undefined || failed.some((write) => write.code !== 11000)) throw error;
      return failed.flatMap((write) => keys[write.index] ?? []);
    }
  }

  async remove(keys: readonly string[], computerId: string): Promise<void> {
    for (const key of keys) {
      // `$pullAll` with values: FerretDB v1 has no `$pull` by condition.
      await this.model.updateOne({ _id: key }, { $pullAll: { computerIds: [computerId] } });
    }
  }
}
