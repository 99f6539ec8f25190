/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection } from 'mongoose';
import { TenantRepository } from '@converge/store';
import type { AgentFacts } from '../domain/computer.ts';
import type { IdentificationFailure } from '../domain/identification.ts';
import { writeEachIfNewer } from './upsert-if-newer.ts';

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

/** What a batch decided about an agent's failed identification. */
export type IdentificationFailureChange =
  | { kind: 'record'; facts: AgentFacts; failure: IdentificationFailure; retry: boolean }
  | { kind: 'resolve'; agentId: string; factsVersion: number };

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
   * Applies what one batch decided, in one request. A failure is recorded unless the agent's newer report is
   * there; a redelivered report (same version) changes nothing, while a technician's retry of it (`retry`) counts
   * another attempt. A resolved failure goes, unless a newer report replaced it meanwhile.
   */
  async apply(changes: readonly IdentificationFailureChange[], now: Date): Promise<void> {
    await writeEachIfNewer(
      this.model,
      changes.map((change) => {
        if (change.kind === 'resolve') {
          return {
            deleteOne: { filter: { _id: change.agentId, factsVersion: { $lte: change.factsVersion } } },
          };
        }
        const { facts, failure, retry } = change;
        const version = retry ? { $lte: facts.version } : { $lt: facts.version };
        return {
          updateOne: {
            filter: { _id: facts.agentId, factsVersion: version },
            update: {
              $set: {
                tenantId: facts.tenantId,
                factsVersion: facts.version,
                facts,
                failure,
                lastFailedAt: now,
              },
              $inc: { attempts: 1 },
              $setOnInsert: { firstFailedAt: now },
            },
            upsert: true,
          },
        };
      }),
    );
  }
}
