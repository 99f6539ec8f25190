/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type mongo } from 'mongoose';
import { TenantRepository } from '@converge/store';
import type { AgentFacts } from '../domain/computer.ts';
import type { ManualDecisionRequest } from '../domain/identification.ts';
import { insertNew, writeEachIfNewer } from './upsert-if-newer.ts';

/**
 * A facts report waiting for a technician ("needs manual decision"), one per agent: the agent's newer reports
 * replace it, and identifying the agent in any other way removes it.
 */
export interface PendingDecisionDocument {
  /** The agent id. */
  _id: string;
  /** The agent's tenant; candidates may lie in others (one physical machine, two tenants' agents). */
  tenantId: string;
  /** The facts version the request was made from. */
  factsVersion: number;
  reason: ManualDecisionRequest['reason'];
  matchedBy: ManualDecisionRequest['matchedBy'];
  facts: AgentFacts;
  candidates: { computerId: string; existingAgentId: string | null }[];
  createdAt: Date;
}

const pendingDecisionSchema = new Schema<PendingDecisionDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    factsVersion: { type: Number, required: true },
    reason: { type: String, required: true },
    matchedBy: { type: String, required: true },
    facts: { type: Schema.Types.Mixed, required: true },
    candidates: {
      type: [new Schema({ computerId: String, existingAgentId: String }, { _id: false })],
      default: [],
    },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, minimize: false },
);
// The New Computers queue of one tenant, oldest first.
pendingDecisionSchema.index({ tenantId: 1, createdAt: 1 });

/** What a batch decided about an agent's pending decision. */
export type PendingDecisionChange =
  | { kind: 'record'; request: ManualDecisionRequest }
  | { kind: 'resolve'; agentId: string; factsVersion: number };

export class PendingDecisionRepository extends TenantRepository<PendingDecisionDocument> {
  constructor(conn: Connection) {
    super(conn.model<PendingDecisionDocument>('PendingDecision', pendingDecisionSchema, 'pendingdecisions'));
  }

  /** The agents' pending decisions, in one request: what an owner loads to apply technicians' answers. */
  async byAgents(agentIds: readonly string[]): Promise<PendingDecisionDocument[]> {
    if (agentIds.length === 0) return [];
    return this.model.find({ _id: { $in: [...agentIds] } }).lean<PendingDecisionDocument[]>();
  }

  /**
   * Applies what one batch decided: a recorded request replaces the agent's unless one from the same or a newer
   * report is there; a resolved one goes, unless a newer report replaced it meanwhile. `pending` are the agents
   * known to have a request: the others' resolutions are no-ops, and their new requests are inserted,
   * conditionally only when one was recorded meanwhile.
   */
  async apply(
    changes: readonly PendingDecisionChange[],
    now: Date,
    pending: ReadonlySet<string>,
  ): Promise<void> {
    const documentOf = (request: ManualDecisionRequest) => ({
      tenantId: request.facts.tenantId,
      factsVersion: request.facts.version,
      reason: request.reason,
      matchedBy: request.matchedBy,
      facts: request.facts,
      candidates: request.candidates.map((candidate) => ({ ...candidate })),
      createdAt: now,
    });
    const taken = await insertNew(
      this.model,
      changes.flatMap((change) =>
        change.kind === 'record' && !pending.has(change.request.facts.agentId)
          ? [{ _id: change.request.facts.agentId, ...documentOf(change.request) }]
          : [],
      ),
    );
    await writeEachIfNewer(
      this.model,
      changes.flatMap((change): mongo.AnyBulkWriteOperation<PendingDecisionDocument>[] => {
        const agentId = change.kind === 'record' ? change.request.facts.agentId : change.agentId;
        if (!pending.has(agentId) && !taken.has(agentId)) return [];
        if (change.kind === 'resolve') {
          return [{ deleteOne: { filter: { _id: agentId, factsVersion: { $lte: change.factsVersion } } } }];
        }
        const { request } = change;
        return [
          {
            updateOne: {
              filter: { _id: agentId, factsVersion: { $lt: request.facts.version } },
              update: { $set: documentOf(request) },
              upsert: true,
            },
          },
        ];
      }),
    );
  }

  toRequest(doc: PendingDecisionDocument): ManualDecisionRequest {
    return { reason: doc.reason, matchedBy: doc.matchedBy, facts: doc.facts, candidates: doc.candidates };
  }
}
