// The two-agent race at the use case, against the real store: both identifications of one new machine run
// at once in one process (FerretDB v1 isolates writes only within a process, ARCHITECTURE.md §4), so their
// reads and writes interleave on every round.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectMongo } from '@converge/store';
import { createLogger } from '@converge/telemetry';
import { stack, uniqueId } from '@converge/testing';
import type { Connection } from 'mongoose';
import { factsOf, policy } from '../src/domain/computer.fixtures.ts';
import { identifyFromFacts } from '../src/use-cases/identify-computer.ts';
import { identityDeps, type IdentityDeps } from '../src/use-cases/identity-deps.ts';

let conn: Connection;
let deps: IdentityDeps;

beforeAll(async () => {
  const logger = createLogger({ service: 'identity-race-test', level: 'silent' });
  conn = await connectMongo({
    uri: stack.mongoUri,
    dbName: uniqueId('identity_race').replace(/-/g, '_'),
    logger,
  });
  deps = identityDeps(conn, { policy, staleAfterDays: 30 });
  await deps.computers.mongooseModel.init();
});

afterAll(async () => {
  await conn.dropDatabase();
  await conn.close();
});

describe('two agents reporting the same new hardware UUID at once', () => {
  it('create one computer, which gains the other provider agent', async () => {
    for (let round = 0; round < 10; round++) {
      const hardwareUuid = randomUUID();
      const first = factsOf({ agentId: `agent-${randomUUID()}`, hardwareUuid });
      const second = { ...first, agentId: `automate-${randomUUID()}`, provider: 'cw-automate' };
      const outcomes = await Promise.all([identifyFromFacts(deps, first), identifyFromFacts(deps, second)]);
      expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(['attach-agent', 'create-computer']);
      const computers = await deps.computers.mongooseModel.find({ hardwareUuid }).lean();
      expect(computers).toHaveLength(1);
      expect(computers[0]?.agents).toHaveLength(2);
    }
  });

  it('create one computer and a pending decision when both agents are of the same provider', async () => {
    const hardwareUuid = randomUUID();
    const first = factsOf({ agentId: `agent-${randomUUID()}`, hardwareUuid });
    const clone = { ...first, agentId: `agent-${randomUUID()}` };
    const outcomes = await Promise.all([identifyFromFacts(deps, first), identifyFromFacts(deps, clone)]);
    expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual([
      'create-computer',
      'needs-manual-decision',
    ]);
    expect(await deps.computers.mongooseModel.countDocuments({ hardwareUuid })).toBe(1);
  });
});
