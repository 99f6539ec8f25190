import { NotFoundError } from '@converge/errors';
import {
  pageQuery,
  rawCollection,
  replaceStatement,
  scopedFilter,
  toPage,
  writeFencedBatches,
  type AggregateCollection,
  type Page,
  type PageRequest,
  type PartitionFence,
  type TenantScope,
} from '@converge/store';
import type { Connection, Model, QueryFilter } from 'mongoose';
import type { MaintenanceSession, SessionKind, SessionStatus } from '../domain/maintenance-session.ts';
import type { SessionPlan } from '../domain/session-plan.ts';
import { LogLineRepository } from './log-line.repository.ts';
import { decodeState } from './session-state.ts';
import { PlanRepository } from './plan.repository.ts';
import {
  openSessionModel,
  sessionModel,
  type OpenSessionDocument,
  type SessionDocument,
} from './session.schema.ts';

/** A stored session with the state machine's session, its actions joined with their plan's items. */
export interface StoredSession {
  doc: SessionDocument;
  session: MaintenanceSession;
  /** The plan the session ran, as deployments answered it; none before it came. */
  plan: SessionPlan | undefined;
}

export type SessionSummary = Omit<SessionDocument, 'state' | 'batchSeq'>;

export interface SessionListFilter {
  status?: SessionStatus;
  computerId?: string;
  scheduleId?: string;
  kind?: SessionKind;
}

const summaryProjection = { state: 0, batchSeq: 0 };

export class SessionRepository {
  readonly model: Model<SessionDocument>;
  readonly plans: PlanRepository;
  readonly logLines: LogLineRepository;
  private readonly open: Model<OpenSessionDocument>;

  constructor(conn: Connection) {
    this.model = sessionModel(conn);
    this.open = openSessionModel(conn);
    this.plans = new PlanRepository(conn);
    this.logLines = new LogLineRepository(conn);
  }

  async init(): Promise<void> {
    await Promise.all([this.model.init(), this.open.init()]);
  }

  /** The collection the owner writes, with its partitions' fence documents. */
  get collection(): AggregateCollection {
    return rawCollection(this.model);
  }

  /** The session in the caller's scope, or `NotFoundError` (one outside it is as absent as a missing one). */
  async get(scope: TenantScope, id: string): Promise<StoredSession> {
    const filter = scopedFilter(scope, { _id: id }) as QueryFilter<SessionDocument>;
    const doc = await this.model.findOne(filter).lean<SessionDocument>();
    if (doc === null) throw new NotFoundError('maintenance session not found');
    const [stored] = await this.withSessions([doc]);
    if (stored === undefined) throw new NotFoundError('maintenance session not found');
    return stored;
  }

  async list(
    scope: TenantScope,
    filter: SessionListFilter,
    page: PageRequest,
  ): Promise<Page<SessionSummary>> {
    // The owners' partition fences share this collection (`fence:…` documents without a tenant); a caller who
    // sees every tenant would otherwise page through them too. A scoped caller's tenant filter replaces this.
    const conditions: QueryFilter<SessionDocument> = { tenantId: { $exists: true } };
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

  /** The sessions with these ids, any tenant's: for their owner, which acts on commands, never on a caller's scope. */
  async byIds(ids: readonly string[]): Promise<StoredSession[]> {
    if (ids.length === 0) return [];
    const docs = await this.model.find({ _id: { $in: [...ids] } }).lean<SessionDocument[]>();
    return this.withSessions(docs);
  }

  /** Which of these sessions exist. */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const docs = await this.model.find({ _id: { $in: [...ids] } }, { _id: 1 }).lean<{ _id: string }[]>();
    return new Set(docs.map((doc) => doc._id));
  }

  /** The open sessions of a partition: what its new owner loads. */
  async openOf(partition: number): Promise<StoredSession[]> {
    const open = await this.open.find({ partition }, { _id: 1 }).lean<{ _id: string }[]>();
    return this.byIds(open.map((entry) => entry._id));
  }

  /** Records sessions as open (one insert; ones recorded already are skipped). */
  async markOpen(entries: readonly OpenSessionDocument[]): Promise<void> {
    if (entries.length === 0) return;
    await this.open.insertMany(entries, { ordered: false, lean: true }).catch((error: unknown) => {
      const writeErrors = (error as { writeErrors?: { code?: number }[] }).writeErrors;
      if (!Array.isArray(writeErrors) || writeErrors.some((writeError) => writeError.code !== 11000))
        throw error;
    });
  }

  /** Forgets sessions that are finished and whose last events were sent. */
  async markClosed(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.open.deleteMany({ _id: { $in: [...ids] } });
  }

  /**
   * Writes the documents that batches of the owner changed, those of several partitions in one write (a group
   * commit), each partition's fenced and each document on condition that it is still at the version the owner
   * last wrote (0 for a new session). Resolves with what refused each batch (see `writeFencedBatches`).
   */
  writeBatches(
    batches: readonly {
      fence: PartitionFence;
      writes: readonly { doc: SessionDocument; previousVersion: number }[];
      sentSeq: number;
    }[],
  ): Promise<(Error | undefined)[]> {
    return writeFencedBatches(
      this.collection,
      batches.map(({ fence, writes, sentSeq }) => ({
        fence,
        statements: writes.map(({ doc, previousVersion }) => replaceStatement(doc._id, previousVersion, doc)),
        sentSeq,
      })),
    );
  }

  private async withSessions(docs: readonly SessionDocument[]): Promise<StoredSession[]> {
    const planIds = docs.flatMap((doc) => (doc.planId === null ? [] : [doc.planId]));
    const plans = await this.plans.load(planIds);
    return docs.map((doc) => {
      const plan = doc.planId === null ? undefined : plans.get(doc.planId);
      return { doc, session: decodeState(doc.state, plan), plan };
    });
  }
}
