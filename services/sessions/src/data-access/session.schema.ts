/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { outboxPlugin, type OutboxFields } from '@converge/store';
import { Schema, type Connection, type Model } from 'mongoose';
import type { PlanScript } from '../domain/plan-scripts.ts';
import type {
  MaintenanceSession,
  SessionKind,
  SessionStage,
  SessionStatus,
  SessionTrigger,
} from '../domain/maintenance-session.ts';

/**
 * One maintenance session. The state machine's session is kept whole as JSON text (`state`): it is read and
 * written whole by every transition, and as text it cannot trip over FerretDB v1's limits on keys (a task
 * parameter named `a.b`). The fields lists and the ticker query are copied beside it.
 */
export interface SessionDocument extends OutboxFields {
  _id: string;
  tenantId: string;
  computerId: string;
  agentId: string;
  kind: SessionKind;
  trigger: SessionTrigger;
  status: SessionStatus;
  stage: SessionStage;
  version: number;
  scheduleId: string | null;
  /** The one maintenance item of a single-item session. */
  maintenanceItemId: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  /** When the ticker must look at the session next; null when only an event can move it. */
  wakeAt: Date | null;
  /** Plan requests that failed for a reason that may pass (deployments unreachable): spaces the next one. */
  planAttempts: number;
  state: string;
  /** The plan's scripts by script id, JSON text: what a command for a step runs. */
  scripts: string;
}

export type { MaintenanceSession, PlanScript };

const sessionSchema = new Schema<SessionDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    computerId: { type: String, required: true },
    agentId: { type: String, required: true },
    kind: { type: String, required: true },
    trigger: { type: String, required: true },
    status: { type: String, required: true },
    stage: { type: String, required: true },
    version: { type: Number, required: true },
    scheduleId: { type: String, default: null },
    maintenanceItemId: { type: String, default: null },
    createdAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    wakeAt: { type: Date, default: null },
    planAttempts: { type: Number, default: 0 },
    state: { type: String, required: true },
    scripts: { type: String, default: '{}' },
  },
  { versionKey: false },
);
outboxPlugin(sessionSchema);
// The ticker: sessions due now, earliest first.
sessionSchema.index({ wakeAt: 1 });
// An agent's connect or disconnect finds its sessions that wait for it or run on it.
sessionSchema.index({ agentId: 1, status: 1 });
// Lists: a tenant's sessions newest first, one computer's history, one schedule's sessions.
sessionSchema.index({ tenantId: 1, createdAt: -1 });
sessionSchema.index({ computerId: 1, createdAt: -1 });
sessionSchema.index({ scheduleId: 1, status: 1 });

export function sessionModel(conn: Connection): Model<SessionDocument> {
  return conn.model<SessionDocument>('MaintenanceSession', sessionSchema, 'sessions');
}
