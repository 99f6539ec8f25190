import { fileURLToPath } from 'node:url';
import { topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { config } from './config.ts';
import { identificationPolicy } from './domain/identification.ts';
import { computersRoutes } from './entry-points/http/computers.routes.ts';
import { identificationRoutes } from './entry-points/http/identification.routes.ts';
import { consumeAgentEvents } from './entry-points/kafka/agent-events.consumer.ts';
import { startComputerEventsRelay } from './entry-points/kafka/computer-events.relay.ts';
import { consumeDirectoryEvents } from './entry-points/kafka/directory-events.consumer.ts';
import { consumeSessionEvents } from './entry-points/kafka/session-events.consumer.ts';
import { identityDeps } from './use-cases/identity-deps.ts';

await runService({
  name: 'identity',
  config,
  topics: [{ topic: topics.computerEvents, partitions: config.kafka.partitions }],
  start: async ({ bus, mongo, logger }) => {
    const deps = identityDeps(mongo, {
      policy: identificationPolicy(config.identification),
      staleAfterDays: config.staleAfterDays,
    });
    // Indexes first: the unique identity key must exist before the first computer is written.
    await deps.computers.mongooseModel.init();
    const relay = startComputerEventsRelay(bus, deps.computers, logger);
    const { consumer } = config;
    const agentEvents = await consumeAgentEvents(bus, deps, {
      groupId: `${consumer.groupPrefix}.agent-events`,
      topic: topics.agentEvents,
      concurrency: consumer.concurrency,
    });
    const directoryEvents = await consumeDirectoryEvents(bus, deps, {
      groupId: `${consumer.groupPrefix}.directory-events`,
      topic: topics.directoryEvents,
    });
    const sessionEvents = await consumeSessionEvents(bus, deps, {
      groupId: `${consumer.groupPrefix}.session-events`,
      topic: topics.sessionEvents,
    });
    return {
      routes: (router) => {
        computersRoutes(router, deps);
        identificationRoutes(router, deps);
      },
      openApiDocument: fileURLToPath(new URL('./entry-points/http/openapi.yaml', import.meta.url)),
      stop: async () => {
        await agentEvents.stop();
        await directoryEvents.stop();
        await sessionEvents.stop();
        await relay.stop();
      },
    };
  },
});
