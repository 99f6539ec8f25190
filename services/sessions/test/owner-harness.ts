// The sessions service's owner path in this process, against the real broker, database and Redis: commands go
// through Kafka to a real owner, as in the service, for tests that drive use cases directly.
import { createBus, type Bus } from '@converge/bus';
import { createCommandIds, topics } from '@converge/contracts';
import { startOwnerReplies } from '@converge/runtime';
import { connectMongo } from '@converge/store';
import { createLogger } from '@converge/telemetry';
import { stack, testKeys, uniqueId } from '@converge/testing';
import { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Planner } from '../src/clients/deployments-planner.ts';
import { SessionRepository } from '../src/data-access/session.repository.ts';
import { ownSessions } from '../src/entry-points/kafka/session-owner.consumer.ts';
import { SessionCommands } from '../src/use-cases/session-commands.ts';
import { SessionOwner } from '../src/use-cases/session-owner.ts';

export interface OwnerStack {
  mongo: Connection;
  bus: Bus;
  sessions: SessionRepository;
  commands: SessionCommands;
  stop(): Promise<void>;
}

/** A planner for tests that need no plan: deployments is not running. */
export const noPlanner: Planner = {
  plan: () => Promise.reject(new Error('deployments is not running in this test')),
  close: () => undefined,
};

export async function startOwnerStack(opts: { clock: () => number; planner?: Planner }): Promise<OwnerStack> {
  const run = uniqueId('owner').replace(/-/g, '_');
  const logger = createLogger({ service: 'owner-test', level: 'error' });
  const mongo = await connectMongo({ uri: stack.mongoUri, dbName: run, logger });
  const bus = createBus({
    brokers: [...stack.kafkaBrokers],
    clientId: run,
    source: 'sessions',
    logger,
    topicPrefix: `${run}.`,
  });
  await bus.connect();
  await bus.ensureTopics([
    { topic: topics.commandResults, partitions: 3 },
    { topic: topics.commands, partitions: 3 },
    { topic: topics.sessionEvents, partitions: 3 },
    { topic: topics.sessionCommands, partitions: { like: topics.commandResults } },
  ]);
  const redis = new Redis(stack.redisUrl);
  const subscriber = new Redis(stack.redisUrl);
  const replies = await startOwnerReplies(redis, subscriber, `converge:${run}:replies:`);
  const sessions = new SessionRepository(mongo);
  await sessions.init();
  const commandIds = createCommandIds(testKeys.commandId);
  const owner = new SessionOwner({
    sessions,
    planner: opts.planner ?? noPlanner,
    bus,
    redis,
    replies,
    logger,
    clock: opts.clock,
    groupId: `${run}.owners`,
    agentIndexPrefix: `converge:${run}:agent-sessions:`,
    tickIntervalMs: 200,
    commandIds,
  });
  const owned = await ownSessions(bus, owner, { groupId: `${run}.owners`, commandIds });
  owner.attach(owned);
  return {
    mongo,
    bus,
    sessions,
    commands: new SessionCommands({ bus, replies, clock: opts.clock }),
    stop: async () => {
      await owned.stop();
      owner.stop();
      await replies.stop();
      await bus.disconnect();
      redis.disconnect();
      subscriber.disconnect();
      await mongo.dropDatabase();
      await mongo.close();
    },
  };
}
