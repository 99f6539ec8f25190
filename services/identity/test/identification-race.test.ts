// The two-agent race at the owner, against the real store and broker: both reports of one new machine reach the
// owner of its hardware UUID in one batch (the router keys both by it), and are decided one after the other.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createBus, type Bus, type ReceivedEvent } from '@converge/bus';
import { computerIdentificationRequested, topics } from '@converge/contracts';
import { connectMongo } from '@converge/store';
import { createLogger } from '@converge/telemetry';
import { stack, uniqueId } from '@converge/testing';
import type { Connection } from 'mongoose';
import type { AgentFacts } from '../src/domain/computer.ts';
import { factsOf, policy } from '../src/domain/computer.fixtures.ts';
import { identificationKey } from '../src/domain/identification.ts';
import { IdentificationOwner } from '../src/use-cases/identification-owner.ts';
import { identityDeps, type IdentityDeps } from '../src/use-cases/identity-deps.ts';

let conn: Connection;
let deps: IdentityDeps;
let bus: Bus;
let owner: IdentificationOwner;

beforeAll(async () => {
  const run = uniqueId('identity-race');
  const logger = createLogger({ service: 'identity-race-test', level: 'silent' });
  conn = await connectMongo({ uri: stack.mongoUri, dbName: run.replace(/-/g, '_'), logger });
  deps = identityDeps(conn, { policy, staleAfterDays: 30 });
  await deps.computers.mongooseModel.init();
  bus = createBus({
    brokers: stack.kafkaBrokers,
    clientId: run,
    source: 'identity',
    logger,
    topicPrefix: `${run}.`,
  });
  await bus.connect();
  await bus.ensureTopics([{ topic: topics.computerEvents, partitions: 1 }]);
  // Reports from agents carry no request to answer.
  const replies = {
    answer: (answers: readonly unknown[]) => {
      expect(answers).toEqual([]);
      return Promise.resolve();
    },
  };
  owner = new IdentificationOwner({ ...deps, bus, replies, logger, groupId: run, heldComputers: 1_000 });
  await owner.takeOver(0);
});

afterAll(async () => {
  await bus.disconnect();
  await conn.dropDatabase();
  await conn.close();
});

/** A facts report as the owner receives it from the router: keyed by the key it is identified under. */
function received(facts: AgentFacts): ReceivedEvent {
  return {
    id: randomUUID(),
    type: computerIdentificationRequested.type,
    source: 'identity',
    subject: identificationKey(facts, policy),
    time: new Date().toISOString(),
    data: { facts, retry: false, reply: null },
    topic: topics.identificationInputs,
    partition: 0,
    offset: '0',
  };
}

describe('two agents reporting the same new hardware UUID at once', () => {
  it('create one computer, which gains the other provider agent', async () => {
    for (let round = 0; round < 10; round++) {
      const hardwareUuid = randomUUID();
      const first = factsOf({ agentId: `agent-${randomUUID()}`, hardwareUuid });
      const second = { ...first, agentId: `automate-${randomUUID()}`, provider: 'cw-automate' };
      const outcomes = await owner.handleBatch(0, [received(first), received(second)]);
      expect(outcomes.map((outcome) => outcome !== null && 'kind' in outcome && outcome.kind).sort()).toEqual(
        ['attach-agent', 'create-computer'],
      );
      const computers = await deps.computers.mongooseModel.find({ hardwareUuid }).lean();
      expect(computers).toHaveLength(1);
      expect(computers[0]?.agents).toHaveLength(2);
    }
  });

  it('create one computer and a pending decision when both agents are of the same provider', async () => {
    const hardwareUuid = randomUUID();
    const first = factsOf({ agentId: `agent-${randomUUID()}`, hardwareUuid });
    const clone = { ...first, agentId: `agent-${randomUUID()}` };
    const outcomes = await owner.handleBatch(0, [received(first), received(clone)]);
    expect(outcomes.map((outcome) => outcome !== null && 'kind' in outcome && outcome.kind).sort()).toEqual([
      'create-computer',
      'needs-manual-decision',
    ]);
    expect(await deps.computers.mongooseModel.countDocuments({ hardwareUuid })).toBe(1);
  });
});
