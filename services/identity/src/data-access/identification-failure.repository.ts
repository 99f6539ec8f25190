/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection } from 'mongoose';
import { deleteOneDocument, TenantRepository, updateOneDocument } from '@converge/store';
import type { AgentFacts } from '../domain/computer.ts';
import type { IdentificationFailure } from '../domain/identification.ts';

/** A facts report that identified no computer, kept (one per agent, the latest) so it can be retried. */
export interface IdentificationFailureDocument {
  /** The agent id. */
  _id: string;
  tenantId: string;
  factsVersion: number;
  facts: AgentFacts;
  failure: IdentificationFailure;
  attempts: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
}

const failureSchema = new Schema<IdentificationFailureDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    factsVersion: { type: Number, required: true },
    facts: { type: Schema.Types.Mixed, required: true },
    failure: { type: Schema.Types.Mixed, required: true },
    attempts: { type: Number, required: true },
    firstFailedAt: { type: Date, required: true },
    lastFailedAt: { type: Date, required: true },
  },
  { versionKey: false, minimize: false },
);
// The failed queue of one tenant, oldest first.
failureSchema.index({ tenantId: 1, firstFailedAt: 1 });

export class IdentificationFailureRepository extends TenantRepository<IdentificationFailureDocument> {
  constructor(conn: Connection) {
    super(
      conn.model<IdentificationFailureDocument>(
        'IdentificationFailure',
        failureSchema,
        'identificationfailures',
      ),
    );
  }

  /**
   * Records a failed report. A redelivered report (same version) changes nothing; a technician's retry
   * (`retry: true`) of the same report counts another attempt.
   */
  async record(
    facts: AgentFacts,
    failure: IdentificationFailure,
    now: Date,
    retry: boolean,
  ): Promise<boolean> {
    const version = retry ? { $lte: facts.version } : { $lt: facts.version };
    const recorded = await updateOneDocument(
      this.model,
      { _id: facts.agentId, factsVersion: version },
      {
        $set: { tenantId: facts.tenantId, factsVersion: facts.version, facts, failure, lastFailedAt: now },
        $inc: { attempts: 1 },
        $setOnInsert: { firstFailedAt: now },
      },
      { upsert: true },
    );
    return recorded !== null;
  }

  async resolve(agentId: string, factsVersion: number): Promise<void> {
    await deleteOneDocument(this.model, { _id: agentId, factsVersion: { $lte: factsVersion } });
  }
}
