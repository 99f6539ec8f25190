import { fileURLToPath } from 'node:url';
import { topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { config } from './config.ts';
import { identificationPolicy } from './domain/identification.ts';
import { computersRoutes } from './entry-points/http/computers.routes.ts';
import { identificationRoutes } from './entry-points/http/identification.routes.ts';
import { routeAgentEvents } from './entry-points/kafka/agent-events.router.ts';
import { consumeDirectoryEvents } from './entry-points/kafka/directory-events.consumer.ts';
import { consumeIdentificationInputs } from './entry-points/kafka/identification-inputs.consumer.ts';
import { consumeSessionEvents } from './entry-points/kafka/session-events.consumer.ts';
import { AgentEventRouting } from './use-cases/agent-event-routing.ts';
import { ComputerRequests } from './use-cases/computer-requests.ts';
import { IdentificationOwner } from './use-cases/identification-owner.ts';
import { identityDeps } from './use-cases/identity-deps.ts';

await runService({
  name: 'identity',
  config,
  topics: [
    { topic: topics.computerEvents, partitions: config.kafka.partitions },
    { topic: topics.identificationInputs, partitions: config.kafka.partitions },
  ],
  start: async ({ bus, mongo, logger, ownerReplies }) => {
    const deps = identityDeps(mongo, {
      policy: identificationPolicy(config.identification),
      staleAfterDays: config.staleAfterDays,
    });
    // Indexes first: the unique identity key must exist before the first computer is written.
    await deps.computers.mongooseModel.init();
    const replies = await ownerReplies();
    const { consumer } = config;
    const owner = new IdentificationOwner({
      ...deps,
      bus,
      replies,
      logger,
      groupId: `${consumer.groupPrefix}.identification`,
      heldComputers: config.heldComputers,
    });
    const inputs = await consumeIdentificationInputs(bus, owner, {
      groupId: `${consumer.groupPrefix}.identification`,
      topic: topics.identificationInputs,
      concurrency: consumer.concurrency,
    });
    const routing = new AgentEventRouting({
      computers: deps.computers,
      presence: deps.presence,
      bus,
      policy: deps.policy,
      rememberedAgents: config.heldComputers,
    });
    const agentEvents = await routeAgentEvents(bus, routing, {
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
    const requests = new ComputerRequests({
      ...deps,
      bus,
      replies,
      timeoutMs: config.requestTimeoutMs,
    });
    return {
      routes: (router) => {
        computersRoutes(router, deps, requests);
        identificationRoutes(router, deps, requests);
      },
      openApiDocument: fileURLToPath(new URL('./entry-points/http/openapi.yaml', import.meta.url)),
      stop: async () => {
        // What routes inputs stops first, so that the owners finish what is already on their topic.
        await agentEvents.stop();
        await directoryEvents.stop();
        await sessionEvents.stop();
        await inputs.stop();
      },
    };
  },
});
