import { fileURLToPath } from 'node:url';
import { topics } from '@converge/contracts';
import { outboxPublisher, runService } from '@converge/runtime';
import { startOutboxRelay } from '@converge/store';
import { deploymentsPlanner } from './clients/deployments-planner.ts';
import { config } from './config.ts';
import { AgentConnectionRepository } from './data-access/agent-connection.repository.ts';
import { ComputerRepository } from './data-access/computer.repository.ts';
import { ScheduleRepository } from './data-access/schedule.repository.ts';
import { SessionRepository } from './data-access/session.repository.ts';
import { scheduleRoutes } from './entry-points/http/schedules.routes.ts';
import { sessionsRoutes } from './entry-points/http/sessions.routes.ts';
import { consumeAgentEvents } from './entry-points/kafka/agent-events.consumer.ts';
import { consumeCommandResults } from './entry-points/kafka/command-results.consumer.ts';
import { consumeComputerEvents } from './entry-points/kafka/computer-events.consumer.ts';
import { startSessionTicker } from './entry-points/timers/session-ticker.ts';
import { SessionLiveFeed } from './live/session-live-feed.ts';
import { startScheduleTicker } from './use-cases/schedules.ts';
import { SessionOrchestrator } from './use-cases/session-orchestrator.ts';

await runService({
  name: 'sessions',
  config,
  topics: [{ topic: topics.sessionEvents, partitions: config.kafka.partitions }],
  start: async ({ bus, mongo, logger }) => {
    const clock = () => Date.now();
    const sessions = new SessionRepository(mongo);
    const computers = new ComputerRepository(mongo);
    const schedules = new ScheduleRepository(mongo);
    await Promise.all([sessions.model.init(), computers.mongooseModel.init(), schedules.init()]);
    const planner = deploymentsPlanner({
      address: config.deployments.address,
      deadlineMs: config.deployments.resolveDeadlineMs,
    });
    const orchestrator = new SessionOrchestrator({
      sessions,
      planner,
      logger,
      clock,
      resolveDeadlineMs: config.deployments.resolveDeadlineMs,
    });
    // Sessions wait on these events, so the relay looks often.
    const relay = startOutboxRelay({
      model: sessions.model,
      publish: outboxPublisher(bus),
      logger,
      intervalMs: 100,
    });
    const { consumer } = config;
    const live = new SessionLiveFeed();
    await live.start(bus, { groupPrefix: consumer.groupPrefix, topic: topics.sessionEvents });
    const subscriptions = await Promise.all([
      consumeCommandResults(bus, orchestrator, {
        groupId: `${consumer.groupPrefix}.command-results`,
        topic: topics.commandResults,
        concurrency: consumer.concurrency,
      }),
      consumeAgentEvents(bus, sessions, new AgentConnectionRepository(mongo), orchestrator, {
        groupId: `${consumer.groupPrefix}.agent-events`,
        topic: topics.agentEvents,
      }),
      consumeComputerEvents(bus, computers, orchestrator, {
        groupId: `${consumer.groupPrefix}.computer-events`,
        topic: topics.computerEvents,
      }),
    ]);
    const ticker = startSessionTicker(sessions, orchestrator, {
      intervalMs: config.tickIntervalMs,
      logger,
      clock,
    });
    const scheduleDeps = { sessions, computers, orchestrator, schedules, logger, clock };
    const scheduleTicker = startScheduleTicker(scheduleDeps, {
      intervalMs: config.scheduleTickIntervalMs,
      logger,
    });
    return {
      routes: (router) => {
        sessionsRoutes(router, { sessions, computers, orchestrator, live });
        scheduleRoutes(router, scheduleDeps);
      },
      openApiDocument: fileURLToPath(new URL('./entry-points/http/openapi.yaml', import.meta.url)),
      stop: async () => {
        await scheduleTicker.stop();
        await ticker.stop();
        for (const subscription of subscriptions) await subscription.stop();
        await live.stop();
        await relay.stop();
        planner.close();
      },
    };
  },
});
