import { fileURLToPath } from 'node:url';
import { createCommandIds, topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { deploymentsPlanner } from './clients/deployments-planner.ts';
import { config } from './config.ts';
import { ComputerRepository } from './data-access/computer.repository.ts';
import { ScheduleRepository } from './data-access/schedule.repository.ts';
import { SessionRepository } from './data-access/session.repository.ts';
import { scheduleRoutes } from './entry-points/http/schedules.routes.ts';
import { sessionsRoutes } from './entry-points/http/sessions.routes.ts';
import { routeAgentEvents } from './entry-points/kafka/agent-events.router.ts';
import { consumeComputerEvents } from './entry-points/kafka/computer-events.consumer.ts';
import { ownSessions } from './entry-points/kafka/session-owner.consumer.ts';
import { SessionLiveFeed } from './live/session-live-feed.ts';
import { startScheduleTicker } from './use-cases/schedules.ts';
import { SessionCommands } from './use-cases/session-commands.ts';
import { SessionOwner } from './use-cases/session-owner.ts';

await runService({
  name: 'sessions',
  config,
  topics: [
    { topic: topics.sessionEvents, partitions: config.kafka.partitions },
    // Owned together with the agents' results, so partitioned like them (docs/architecture.md §9).
    { topic: topics.sessionCommands, partitions: { like: topics.commandResults } },
  ],
  start: async ({ bus, mongo, redis, logger, ownerReplies }) => {
    const clock = () => Date.now();
    const sessions = new SessionRepository(mongo);
    const computers = new ComputerRepository(mongo);
    const schedules = new ScheduleRepository(mongo);
    await Promise.all([sessions.init(), computers.mongooseModel.init(), schedules.init()]);
    const replies = await ownerReplies();
    const planner = deploymentsPlanner({
      address: config.deployments.address,
      deadlineMs: config.deployments.resolveDeadlineMs,
    });
    const { consumer } = config;
    const agentIndexPrefix = `converge:${consumer.groupPrefix}:agent-sessions:`;
    const commandIds = createCommandIds(config.commandIdKey);
    const owner = new SessionOwner({
      sessions,
      planner,
      bus,
      redis,
      replies,
      logger,
      clock,
      groupId: `${consumer.groupPrefix}.owners`,
      agentIndexPrefix,
      tickIntervalMs: config.tickIntervalMs,
      commandIds,
    });
    const commands = new SessionCommands({ bus, replies, clock });
    const live = new SessionLiveFeed();
    await live.start(bus, { groupPrefix: consumer.groupPrefix, topic: topics.sessionEvents });
    const owned = await ownSessions(bus, owner, {
      groupId: `${consumer.groupPrefix}.owners`,
      commandIds,
    });
    owner.attach(owned);
    const subscriptions = await Promise.all([
      routeAgentEvents(bus, redis, {
        groupId: `${consumer.groupPrefix}.agent-events`,
        topic: topics.agentEvents,
        agentIndexPrefix,
      }),
      consumeComputerEvents(bus, computers, commands, {
        groupId: `${consumer.groupPrefix}.computer-events`,
        topic: topics.computerEvents,
      }),
    ]);
    const scheduleDeps = { sessions, computers, commands, schedules, logger, clock };
    const scheduleTicker = startScheduleTicker(scheduleDeps, {
      intervalMs: config.scheduleTickIntervalMs,
      logger,
    });
    return {
      routes: (router) => {
        sessionsRoutes(router, { sessions, computers, commands, live });
        scheduleRoutes(router, scheduleDeps);
      },
      openApiDocument: fileURLToPath(new URL('./entry-points/http/openapi.yaml', import.meta.url)),
      stop: async () => {
        await scheduleTicker.stop();
        for (const subscription of subscriptions) await subscription.stop();
        await owned.stop();
        owner.stop();
        await live.stop();
        planner.close();
      },
    };
  },
});
