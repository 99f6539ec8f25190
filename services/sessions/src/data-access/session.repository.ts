import {
  outboxEntry,
  pageQuery,
  scopedFilter,
  toPage,
  type OutboxEvent,
  type Page,
  type PageRequest,
  type TenantScope,
} from '@converge/store';
import { ConflictError, NotFoundError } from '@converge/errors';
import type { Connection, Model, QueryFilter } from 'mongoose';
import type { MaintenanceSession, SessionKind, SessionStatus } from '../domain/maintenance-session.ts';
import type { PlanScripts } from '../domain/plan-scripts.ts';
import { sessionModel, type SessionDocument } from './session.schema.ts';

/** A stored session with its state machine's session and plan scripts read back from their JSON text. */
export interface StoredSession {
  doc: SessionDocument;
  session: MaintenanceSession;
  scripts: PlanScripts;
}

export type SessionSummary = Omit<SessionDocument, 'state' | 'scripts' | 'outbox'>;

export interface NewSessionRecord {
  session: MaintenanceSession;
  scheduleId: string | null;
  maintenanceItemId: string | null;
  wakeAt: number | null;
  events: readonly OutboxEvent[];
}

export interface SessionChange {
  session: MaintenanceSession;
  wakeAt: number | null;
  events: readonly OutboxEvent[];
  scripts?: PlanScripts;
  planAttempts?: number;
}

export interface SessionListFilter {
  status?: SessionStatus;
  computerId?: string;
  scheduleId?: string;
  kind?: SessionKind;
}

// Sessions this process wrote last, kept to skip the read before the next transition of the same session.
const maxRecentSessions = 5_000;

const summaryProjection = { state: 0, scripts: 0, outbox: 0, outboxLeaseUntil: 0, outboxLeaseOwner: 0 };

export class SessionRepository {
  readonly model: Model<SessionDocument>;
  /**
   * The state this process last wrote for each unfinished session it works on. A transition starts from it
   * without reading; if another writer moved the session on meanwhile, the versioned write misses, the entry is
   * dropped and the caller starts again from the database.
   */
  private readonly recent = new Map<string, StoredSession>();

  constructor(conn: Connection) {
    this.model = sessionModel(conn);
  }

  /** Stores a new session with its first events; false when a session with its id exists (a redelivery). */
  async insert(record: NewSessionRecord): Promise<boolean> {
    const { session } = record;
    try {
      await this.model.create({
        _id: session.id,
        tenantId: session.tenantId,
        computerId: session.computerId,
        agentId: session.agentId,
        kind: session.kind,
        trigger: session.trigger,
        status: session.status,
        stage: session.stage,
        version: session.version,
        scheduleId: record.scheduleId,
        maintenanceItemId: record.maintenanceItemId,
        createdAt: new Date(session.createdAt),
        finishedAt: null,
        wakeAt: record.wakeAt === null ? null : new Date(record.wakeAt),
        planAttempts: 0,
        state: JSON.stringify(session),
        scripts: '{}',
        outbox: record.events.map(outboxEntry),
      });
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 11000) return false;
      throw error;
    }
  }

  /** Any tenant's session: for the orchestration, which acts on events, never on a caller's request. */
  async load(id: string): Promise<StoredSession | null> {
    const recent = this.recent.get(id);
    if (recent !== undefined) return recent;
    const doc = await this.model.findById(id).lean<SessionDocument>();
    return doc === null ? null : stored(doc);
  }

  /** The session in the caller's scope, or `NotFoundError` (one outside it is as absent as a missing one). */
  async get(scope: TenantScope, id: string): Promise<StoredSession> {
    const filter = scopedFilter(scope, { _id: id }) as QueryFilter<SessionDocument>;
    const doc = await this.model.findOne(filter).lean<SessionDocument>();
    if (doc === null) throw new NotFoundError('maintenance session not found');
    return stored(doc);
  }

  /**
   * Writes a transition and its outbox in one single-document update, only if the session is still at the
   * version the transition started from (`ConflictError` otherwise: the caller reloads and decides again).
   */
  async save(previous: StoredSession, change: SessionChange): Promise<void> {
    const before = previous.doc;
    const { session } = change;
    const fields = {
      status: session.status,
      stage: session.stage,
      finishedAt: session.finishedAt === null ? null : new Date(session.finishedAt),
      wakeAt: change.wakeAt === null ? null : new Date(change.wakeAt),
      state: JSON.stringify(session),
      ...(change.scripts === undefined ? {} : { scripts: JSON.stringify(change.scripts) }),
      ...(change.planAttempts === undefined ? {} : { planAttempts: change.planAttempts }),
    };
    // updateOne, not findOneAndUpdate: the caller has the new state already, so nothing needs to come back.
    const written = await this.model.updateOne(
      { _id: before._id, version: before.version },
      { $set: fields, $inc: { version: 1 }, $push: { outbox: { $each: change.events.map(outboxEntry) } } },
    );
    if (written.matchedCount === 0) {
      this.recent.delete(before._id);
      if ((await this.model.exists({ _id: before._id })) === null) {
        throw new NotFoundError('maintenance session not found');
      }
      throw new ConflictError(`maintenance session changed since version ${before.version}`);
    }
    this.recent.delete(before._id);
    if (session.finishedAt !== null) return;
    const { outbox: _sent, ...rest } = before;
    this.recent.set(before._id, {
      doc: { ...rest, ...fields, outbox: [], version: before.version + 1 },
      session,
      scripts: change.scripts ?? previous.scripts,
    });
    if (this.recent.size > maxRecentSessions) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  /** Ids of sessions due at `now`, earliest first. */
  async due(now: number, limit: number): Promise<string[]> {
    const docs = await this.model
      .find({ wakeAt: { $lte: new Date(now) } }, { _id: 1 })
      .sort({ wakeAt: 1 })
      .limit(limit)
      .lean<{ _id: string }[]>();
    return docs.map((doc) => doc._id);
  }

  /** Ids of an agent's sessions in one of `statuses`. */
  async ofAgent(agentId: string, statuses: readonly SessionStatus[]): Promise<string[]> {
    const docs = await this.model
      .find({ agentId, status: { $in: [...statuses] } }, { _id: 1 })
      .lean<{ _id: string }[]>();
    return docs.map((doc) => doc._id);
  }

  async list(
    scope: TenantScope,
    filter: SessionListFilter,
    page: PageRequest,
  ): Promise<Page<SessionSummary>> {
    const conditions: QueryFilter<SessionDocument> = {};
    if (filter.status !== undefined) conditions.status = filter.status;
    if (filter.computerId !== undefined) conditions.computerId = filter.computerId;
    if (filter.scheduleId !== undefined) conditions.scheduleId = filter.scheduleId;
    if (filter.kind !== undefined) conditions.kind = filter.kind;
    const request = { ...page, sortBy: 'createdAt', direction: 'desc' as const };
    const query = pageQuery(request, scopedFilter(scope, conditions));
    const docs = await this.model
      .find(query.filter as QueryFilter<SessionDocument>, summaryProjection)
      .sort(query.sort)
      .limit(query.fetchLimit)
      .lean<SessionSummary[]>();
    return toPage(docs, request);
  }
}

function stored(doc: SessionDocument): StoredSession {
  return {
    doc,
    session: JSON.parse(doc.state) as MaintenanceSession,
    scripts: JSON.parse(doc.scripts) as PlanScripts,
  };
}
