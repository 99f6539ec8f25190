/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { createHash } from 'node:crypto';
import { isDuplicateKeyError } from '@converge/store';
import { Schema, type Connection, type Model } from 'mongoose';
import type { SessionPlan } from '../domain/session-plan.ts';

/** One distinct plan, stored once however many sessions run it (most of a fleet runs a handful of plans). */
interface PlanDocument {
  /** The SHA-256 of `plan`: the same plan is the same document. */
  _id: string;
  /** JSON text: parameter names may hold `.` or `$`, which stored keys may not. */
  plan: string;
}

const planSchema = new Schema<PlanDocument>(
  {
    _id: { type: String, required: true },
    plan: { type: String, required: true },
  },
  { versionKey: false },
);

// Plans this process has stored or read; a plan never changes, so a cached one is never stale.
const maxCachedPlans = 10_000;

export class PlanRepository {
  private readonly model: Model<PlanDocument>;
  private readonly cache = new Map<string, SessionPlan>();
  /** Plans met since the last `storeNew`, to be written if the store may not have them. */
  private readonly unsaved = new Map<string, string>();

  constructor(conn: Connection) {
    this.model = conn.model<PlanDocument>('Plan', planSchema, 'plans');
  }

  /** The plan's id, remembering the plan until `storeNew` writes it. */
  remember(plan: SessionPlan): string {
    const text = JSON.stringify(plan);
    const id = createHash('sha256').update(text).digest('hex');
    if (!this.cache.has(id)) {
      this.unsaved.set(id, text);
      this.cache.set(id, plan);
      this.trim();
    }
    return id;
  }

  /** Writes the plans remembered since the last call (one insert; ones stored already are skipped). */
  async storeNew(): Promise<void> {
    if (this.unsaved.size === 0) return;
    const docs = [...this.unsaved].map(([_id, plan]) => ({ _id, plan }));
    this.unsaved.clear();
    try {
      await this.model.insertMany(docs, { ordered: false, lean: true });
    } catch (error) {
      if (!isDuplicateKeyError(error) && !allDuplicates(error)) throw error;
    }
  }

  /** The plans with these ids (one read for those not cached). */
  async load(ids: readonly string[]): Promise<Map<string, SessionPlan>> {
    const found = new Map<string, SessionPlan>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const cached = this.cache.get(id);
      if (cached === undefined) missing.push(id);
      else found.set(id, cached);
    }
    if (missing.length > 0) {
      const docs = await this.model.find({ _id: { $in: missing } }).lean<PlanDocument[]>();
      for (const doc of docs) {
        const plan = JSON.parse(doc.plan) as SessionPlan;
        this.cache.set(doc._id, plan);
        found.set(doc._id, plan);
      }
      this.trim();
    }
    return found;
  }

  private trim(): void {
    for (const id of this.cache.keys()) {
      if (this.cache.size <= maxCachedPlans) break;
      if (!this.unsaved.has(id)) this.cache.delete(id);
    }
  }
}

/** An unordered insert whose every failure was a plan stored already. */
function allDuplicates(error: unknown): boolean {
  const writeErrors = (error as { writeErrors?: { code?: number }[] }).writeErrors;
  return Array.isArray(writeErrors) && writeErrors.every((writeError) => writeError.code === 11000);
}
