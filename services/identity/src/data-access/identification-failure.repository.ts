/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type mongo } from 'mongoose';
import { TenantRepository } from '@converge/store';
import type { AgentFacts } from '../domain/computer.ts';
import type { IdentificationFailure } from '../domain/identification.ts';
import { insertNew, writeEachIfNewer } from './upsert-if-newer.ts';

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

  /** The agents among `agentIds` with a failure recorded: what a batch may have to resolve. */
  async agentsAmong(agentIds: readonly string[]): Promise<Set<string>> {
    if (agentIds.length === 0) return new Set();
    const rows = await this.model.find({ _id: { $in: [...agentIds] } }, { _id: 1 }).lean<{ _id: string }[]>();
    return new Set(rows.map((row) => row._id));
  }

  /**
   * Applies what one batch decided. A failure is recorded unless the agent's newer report is there; a redelivered
   * report (same version) changes nothing, while a technician's retry of it (`retry`) counts another attempt. A
   * resolved failure goes, unless a newer report replaced it meanwhile. `recorded` are the agents known to have a
   * failure: the others' resolutions are no-ops, and their new failures are inserted (a quarter of the cost of an
   * upsert on FerretDB), conditionally only when one was recorded meanwhile.
   */
  async apply(
    changes: readonly IdentificationFailureChange[],
    now: Date,
    recorded: ReadonlySet<string>,
  ): Promise<void> {
    const fresh = changes.flatMap((change) =>
      change.kind === 'record' && !recorded.has(change.facts.agentId) ? [change] : [],
    );
    const taken = await insertNew(
      this.model,
      fresh.map(({ facts, failure }) => ({
        _id: facts.agentId,
        tenantId: facts.tenantId,
        factsVersion: facts.version,
        facts,
        failure,
        attempts: 1,
        firstFailedAt: now,
        lastFailedAt: now,
      })),
    );
    await writeEachIfNewer(
      this.model,
      changes.flatMap((change): mongo.AnyBulkWriteOperation<IdentificationFailureDocument>[] => {
        const agentId = change.kind === 'record' ? change.facts.agentId : change.agentId;
        if (!recorded.has(agentId) && !taken.has(agentId)) return [];
        if (change.kind === 'resolve') {
          return [{ deleteOne: { filter: { _id: agentId, factsVersion: { $lte: change.factsVersion } } } }];
        }
        const { facts, failure, retry } = change;
        const version = retry ? { $lte: facts.version } : { $lt: facts.version };
        return [
          {
            updateOne: {
              filter: { _id: agentId, factsVersion: version },
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
          },
        ];
      }),
    );
  }
}
