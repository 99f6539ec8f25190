/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { ConflictError, NotFoundError } from '@converge/errors';
import {
  allTenants,
  pageQuery,
  toPage,
  updateVersioned,
  type Page,
  type PageRequest,
  type TenantScope,
} from '@converge/store';
import { Schema, type Connection, type Model, type QueryFilter } from 'mongoose';
import type {
  OccurrenceKind,
  OfflineBehavior,
  RebootPreference,
  ScheduleTarget,
} from '../domain/schedule.ts';

/** An occurrence whose sessions are being started, held under a lease by the replica that claimed it. */
export interface Firing {
  occurrenceAt: Date;
  kind: OccurrenceKind;
  /** Fired after its window (apply on connect): sessions start at once with no window. */
  late: boolean;
  leaseUntil: Date;
}

export interface ScheduleDocument {
  _id: string;
  /** Null for a cross-tenant schedule; otherwise the tenant its target lies in. */
  tenantId: string | null;
  name: string;
  enabled: boolean;
  target: ScheduleTarget;
  maintenanceItemId: string | null;
  cron: string;
  detectionCron: string | null;
  timeZone: string;
  perComputerLocalTime: boolean;
  maintenanceWindowMinutes: number;
  offlineBehavior: OfflineBehavior;
  rebootPreference: RebootPreference;
  /** The occurrence to fire next; null when the expressions match no later date. */
  nextRunAt: Date | null;
  nextRunKind: OccurrenceKind | null;
  firing: Firing | null;
  /** When the ticker must look at the schedule: its next occurrence, or its firing's lease; null never. */
  wakeAt: Date | null;
  lastFiredAt: Date | null;
  lastSkipped: { at: Date; reason: string } | null;
  /** Every write's concurrency check, firings included: the claim's fence. */
  version: number;
  /** Changes only when a person changes the settings: the version the API shows and edits are made against. */
  settingsVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What a person sets; the rest is the schedule's firing state. */
export type ScheduleSettings = Pick<
  ScheduleDocument,
  | 'tenantId'
  | 'name'
  | 'enabled'
  | 'target'
  | 'maintenanceItemId'
  | 'cron'
  | 'detectionCron'
  | 'timeZone'
  | 'perComputerLocalTime'
  | 'maintenanceWindowMinutes'
  | 'offlineBehavior'
  | 'rebootPreference'
>;

export interface ScheduleListFilter {
  tenantId?: string;
  enabled?: boolean;
}

const scheduleSchema = new Schema<ScheduleDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, default: null },
    name: { type: String, required: true },
    enabled: { type: Boolean, required: true },
    target: { type: Schema.Types.Mixed, required: true },
    maintenanceItemId: { type: String, default: null },
    cron: { type: String, required: true },
    detectionCron: { type: String, default: null },
    timeZone: { type: String, required: true },
    perComputerLocalTime: { type: Boolean, required: true },
    maintenanceWindowMinutes: { type: Number, required: true },
    offlineBehavior: { type: String, required: true },
    rebootPreference: { type: String, required: true },
    nextRunAt: { type: Date, default: null },
    nextRunKind: { type: String, default: null },
    firing: { type: Schema.Types.Mixed, default: null },
    wakeAt: { type: Date, default: null },
    lastFiredAt: { type: Date, default: null },
    lastSkipped: { type: Schema.Types.Mixed, default: null },
    version: { type: Number, required: true },
    settingsVersion: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, minimize: false },
);
// The ticker: schedules due now (an occurrence come, or a firing whose replica stopped), earliest first.
scheduleSchema.index({ wakeAt: 1 });
// Lists: a tenant's schedules by name (an MSP's list filtered by tenant).
scheduleSchema.index({ tenantId: 1, name: 1 });

/** The time the ticker must look at a schedule next, from its state. */
export function wakeAtOf(doc: Pick<ScheduleDocument, 'enabled' | 'nextRunAt' | 'firing'>): Date | null {
  if (doc.firing !== null) return doc.firing.leaseUntil;
  return doc.enabled ? doc.nextRunAt : null;
}

/** Cross-tenant schedules belong to no tenant, so only an MSP scope (every tenant) sees them. */
function visibleTo(scope: TenantScope): Record<string, unknown> {
  if (scope === allTenants) return {};
  return { tenantId: typeof scope === 'string' ? scope : { $in: scope } };
}

/** The state a claim or a finished firing writes. */
export interface FiringChange {
  nextRunAt: Date | null;
  nextRunKind: OccurrenceKind | null;
  firing: Firing | null;
  lastFiredAt?: Date;
  lastSkipped?: { at: Date; reason: string };
}

export class ScheduleRepository {
  private readonly model: Model<ScheduleDocument>;

  constructor(conn: Connection) {
    this.model = conn.model<ScheduleDocument>('Schedule', scheduleSchema, 'schedules');
  }

  /** Builds the indexes before the ticker's first query. */
  async init(): Promise<void> {
    await this.model.init();
  }

  async insert(doc: ScheduleDocument): Promise<ScheduleDocument> {
    const created = await this.model.create(doc);
    return created.toObject();
  }

  /** The schedule in the caller's scope, or `NotFoundError` (one outside it is as absent as a missing one). */
  async get(scope: TenantScope, id: string): Promise<ScheduleDocument> {
    const doc = await this.model.findOne({ $and: [{ _id: id }, visibleTo(scope)] }).lean<ScheduleDocument>();
    if (doc === null) throw new NotFoundError('schedule not found');
    return doc;
  }

  /** Any tenant's schedule: for the ticker, which acts on time, not on a caller's request. */
  find(id: string): Promise<ScheduleDocument | null> {
    return this.model.findById(id).lean<ScheduleDocument>();
  }

  async list(
    scope: TenantScope,
    filter: ScheduleListFilter,
    page: PageRequest,
  ): Promise<Page<ScheduleDocument>> {
    const conditions: Record<string, unknown> = {};
    if (filter.tenantId !== undefined) conditions.tenantId = filter.tenantId;
    if (filter.enabled !== undefined) conditions.enabled = filter.enabled;
    const request = { ...page, sortBy: 'name', direction: 'asc' as const };
    const query = pageQuery(request, { $and: [conditions, visibleTo(scope)] });
    const docs = await this.model
      .find(query.filter as QueryFilter<ScheduleDocument>)
      .sort(query.sort)
      .limit(query.fetchLimit)
      .lean<ScheduleDocument[]>();
    return toPage(docs, request);
  }

  /**
   * Writes new settings (and the next occurrence they imply) if the schedule is still as read (`version`);
   * `ConflictError` otherwise, also when only a firing wrote it: the caller reads again and decides again.
   */
  async update(
    current: ScheduleDocument,
    settings: ScheduleSettings,
    next: { nextRunAt: Date | null; nextRunKind: OccurrenceKind | null },
    now: Date,
  ): Promise<ScheduleDocument> {
    const wakeAt = wakeAtOf({ enabled: settings.enabled, nextRunAt: next.nextRunAt, firing: current.firing });
    return updateVersioned(this.model, { _id: current._id }, current.version, {
      $set: { ...settings, ...next, wakeAt, updatedAt: now },
      $inc: { settingsVersion: 1 },
    });
  }

  /** Deletes the schedule if it is still as read; false if it changed (or went) meanwhile. */
  async delete(current: ScheduleDocument): Promise<boolean> {
    const deleted = await this.model.deleteOne({ _id: current._id, version: current.version });
    return deleted.deletedCount === 1;
  }

  /** Ids of schedules due at `now`, earliest first. */
  async due(now: Date, limit: number): Promise<string[]> {
    const docs = await this.model
      .find({ wakeAt: { $lte: now } }, { _id: 1 })
      .sort({ wakeAt: 1 })
      .limit(limit)
      .lean<{ _id: string }[]>();
    return docs.map((doc) => doc._id);
  }

  /**
   * The fence: applies `change` only if the schedule is still at the version and next occurrence it was read
   * with. Null when another replica (or an edit) got there first: only the writer whose update matched acts.
   */
  async claim(current: ScheduleDocument, change: FiringChange, now: Date): Promise<ScheduleDocument | null> {
    const wakeAt = wakeAtOf({ enabled: current.enabled, nextRunAt: change.nextRunAt, firing: change.firing });
    try {
      return await updateVersioned(
        this.model,
        { _id: current._id, nextRunAt: current.nextRunAt },
        current.version,
        { $set: { ...change, wakeAt, updatedAt: now } },
      );
    } catch (error) {
      if (error instanceof ConflictError || error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /**
   * Ends the firing of the occurrence at `occurrenceAt`, whatever else changed meanwhile (an edit of the
   * schedule keeps its firing); nothing when that firing is no longer the schedule's (deleted, or taken over).
   */
  async finishFiring(id: string, occurrenceAt: Date, now: Date): Promise<void> {
    for (;;) {
      const current = await this.find(id);
      if (current?.firing?.occurrenceAt.getTime() !== occurrenceAt.getTime()) return;
      const wakeAt = wakeAtOf({ ...current, firing: null });
      try {
        await updateVersioned(this.model, { _id: id }, current.version, {
          $set: { firing: null, lastFiredAt: occurrenceAt, wakeAt, updatedAt: now },
        });
        return;
      } catch (error) {
        if (error instanceof NotFoundError) return;
        if (!(error instanceof ConflictError)) throw error;
      }
    }
  }
}
