/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';
import type {
  SessionKind,
  SessionStage,
  SessionStatus,
  SessionTrigger,
} from '../domain/maintenance-session.ts';

/**
 * One maintenance session, written whole by its owner (docs/architecture.md §9). The state machine's session is
 * kept as JSON text (`state`) without its plan's items, which live once per distinct plan (`planId`); the fields
 * lists filter on are copied beside it.
 */
export interface SessionDocument {
  _id: string;
  /** Writes of this document so far: the condition of the owner's next write. */
  version: number;
  /** The Kafka partition of `sessions.session-commands` that owns the session. */
  partition: number;
  tenantId: string;
  computerId: string;
  agentId: string;
  kind: SessionKind;
  trigger: SessionTrigger;
  status: SessionStatus;
  stage: SessionStage;
  scheduleId: string | null;
  /** The one maintenance item of a single-item session. */
  maintenanceItemId: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  /** The plan the session runs (its id in `plans`), null until it arrived. */
  planId: string | null;
  /** Plan requests that failed for a reason that may pass (deployments unreachable): spaces the next one. */
  planAttempts: number;
  /** The latest gateway connection epoch of the session's agent that the session heard of. */
  agentEpoch: number;
  /** The session without its plan's items, JSON text (keys like `a.b` in parameters stay out of the store's way). */
  state: string;
  /**
   * The owner's batch that wrote this version. If that batch's send never completed (its owner died), the next
   * owner sends what the session has outstanding again (`resendAfterCrash`).
   */
  batchSeq: number;
}

const sessionSchema = new Schema<SessionDocument>(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    partition: { type: Number, required: true },
    tenantId: { type: String, required: true },
    computerId: { type: String, required: true },
    agentId: { type: String, required: true },
    kind: { type: String, required: true },
    trigger: { type: String, required: true },
    status: { type: String, required: true },
    stage: { type: String, required: true },
    scheduleId: { type: String, default: null },
    maintenanceItemId: { type: String, default: null },
    createdAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    planId: { type: String, default: null },
    planAttempts: { type: Number, default: 0 },
    agentEpoch: { type: Number, default: 0 },
    state: { type: String, required: true },
    batchSeq: { type: Number, default: 0 },
  },
  { versionKey: false },
);
// Lists: a tenant's sessions newest first, one computer's history, one schedule's sessions.
sessionSchema.index({ tenantId: 1, createdAt: -1 });
sessionSchema.index({ computerId: 1, createdAt: -1 });
sessionSchema.index({ scheduleId: 1, status: 1 });

export function sessionModel(conn: Connection): Model<SessionDocument> {
  return conn.model<SessionDocument>('MaintenanceSession', sessionSchema, 'sessions');
}

/** A session its owner must load at take-over: unfinished, or finished in a batch whose send may not have completed. */
export interface OpenSessionDocument {
  _id: string;
  partition: number;
}

const openSessionSchema = new Schema<OpenSessionDocument>(
  {
    _id: { type: String, required: true },
    partition: { type: Number, required: true },
  },
  { versionKey: false },
);

/**
 * The open sessions, one small document each: what a take-over reads to find its partition's sessions, where a
 * search of the sessions themselves would read every session ever run.
 */
export function openSessionModel(conn: Connection): Model<OpenSessionDocument> {
  return conn.model<OpenSessionDocument>('OpenSession', openSessionSchema, 'open_sessions');
}
