/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection } from 'mongoose';
import { deleteOneDocument, TenantRepository } from '@converge/store';
import type { AgentFacts } from '../domain/computer.ts';
import type { ManualDecisionRequest } from '../domain/identification.ts';
import { upsertIfNewer } from './upsert-if-newer.ts';

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

export class PendingDecisionRepository extends TenantRepository<PendingDecisionDocument> {
  constructor(conn: Connection) {
    super(conn.model<PendingDecisionDocument>('PendingDecision', pendingDecisionSchema, 'pendingdecisions'));
  }

  /** Records the request unless one from the same or a newer report of the agent is already there. */
  async record(request: ManualDecisionRequest, now: Date): Promise<boolean> {
    return upsertIfNewer(this.model, request.facts.agentId, 'factsVersion', request.facts.version, {
      tenantId: request.facts.tenantId,
      reason: request.reason,
      matchedBy: request.matchedBy,
      facts: request.facts,
      candidates: request.candidates.map((candidate) => ({ ...candidate })),
      createdAt: now,
    });
  }

  /** Removes the agent's request, unless a newer report replaced it meanwhile. */
  async resolve(agentId: string, factsVersion: number): Promise<void> {
    await deleteOneDocument(this.model, { _id: agentId, factsVersion: { $lte: factsVersion } });
  }

  toRequest(doc: PendingDecisionDocument): ManualDecisionRequest {
    return { reason: doc.reason, matchedBy: doc.matchedBy, facts: doc.facts, candidates: doc.candidates };
  }
}
