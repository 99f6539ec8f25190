// Enrolls a bench fleet straight into a gateway's database through the gateway's own repository (the same
// documents and SHA-256 secret hashes an HTTP enrollment writes), because tens of thousands of HTTP
// enrollments would take longer than the bench itself. Agent ids carry the run's id, so presence keys in the
// shared Redis never meet an earlier run's.
import { createHash } from 'node:crypto';
import { asTenantId, connectMongo } from '@converge/store';
import { createLogger } from '@converge/telemetry';
import { agentRepository } from '../src/data-access/agent.repository.ts';
import { hashSecret } from '../src/domain/credential.ts';
import type { CredentialsFile, FleetAgent } from './bench-messages.ts';

export interface FleetEnrollmentOptions {
  mongoUri: string;
  /** The gateway's MONGO_DATABASE_PREFIX: its database is `<prefix>_agent_gateway`. */
  databasePrefix: string;
  agents: number;
  /** Agents are spread over this many tenants, `bench-tenant-0`…, as an MSP's fleet is. */
  tenants: number;
  runId: string;
  seed: number;
}

// Inserts in flight at once: FerretDB serializes them on one socket anyway; this hides the round trips.
const insertsInFlight = 64;

/** A secret of 256 bits, derived from the seed so a run's fleet is the same every time. */
function secretOf(seed: number, runId: string, index: number): string {
  return createHash('sha256').update(`${seed}:${runId}:${index}`).digest('base64url');
}

export async function enrollFleet(opts: FleetEnrollmentOptions): Promise<CredentialsFile> {
  const mongo = await connectMongo({
    uri: opts.mongoUri,
    dbName: `${opts.databasePrefix}_agent_gateway`,
    logger: createLogger({ service: 'gateway-bench', level: 'error' }),
  });
  try {
    const repository = agentRepository(mongo);
    const fleet: FleetAgent[] = Array.from({ length: opts.agents }, (_, index) => {
      const agentId = `${opts.runId}-${index}`;
      return {
        agentId,
        tenantId: `bench-tenant-${index % opts.tenants}`,
        credential: `${agentId}.${secretOf(opts.seed, opts.runId, index)}`,
      };
    });
    const enrolledAt = new Date();
    let next = 0;
    const worker = async () => {
      while (next < fleet.length) {
        const agent = fleet[next++]!;
        const secret = agent.credential.slice(agent.credential.indexOf('.') + 1);
        await repository.insert(asTenantId(agent.tenantId), {
          _id: agent.agentId,
          secretHash: hashSecret(secret),
          epoch: 0,
          installTokenId: `${opts.runId}-bench`,
          enrolledAt,
          revokedAt: null,
        });
      }
    };
    await Promise.all(Array.from({ length: insertsInFlight }, worker));
    return { agents: fleet };
  } finally {
    await mongo.close();
  }
}

/** Drops a bench run's gateway database, so runs do not pile up in the shared local store. */
export async function dropFleetDatabase(mongoUri: string, databasePrefix: string): Promise<void> {
  const mongo = await connectMongo({
    uri: mongoUri,
    dbName: `${databasePrefix}_agent_gateway`,
    logger: createLogger({ service: 'gateway-bench', level: 'error' }),
  });
  try {
    await mongo.dropDatabase();
  } finally {
    await mongo.close();
  }
}
