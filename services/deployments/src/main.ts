import { fileURLToPath } from 'node:url';
import { topics } from '@converge/contracts';
import { outboxPublisher, runService } from '@converge/runtime';
import {
  createCommandSecrets,
  createSecretCipher,
  startOutboxRelay,
  type OutboxRelay,
} from '@converge/store';
import type { Model } from 'mongoose';
import { config } from './config.ts';
import { CatalogRepository } from './data-access/catalog.repository.ts';
import { catalogModels } from './data-access/catalog.schemas.ts';
import { deploymentModel, DeploymentRepository } from './data-access/deployment.repository.ts';
import { EstateGenerationRepository } from './data-access/estate-generation.repository.ts';
import { ProjectionRepository } from './data-access/projection.repository.ts';
import { startGrpcServer } from './entry-points/grpc/resolution.grpc.ts';
import { catalogRouter } from './entry-points/http/catalog.routes.ts';
import { deploymentsRouter } from './entry-points/http/deployments.routes.ts';
import { resolutionRouter } from './entry-points/http/resolution.routes.ts';
import { subscribeComputerEvents } from './entry-points/kafka/computer-events.consumer.ts';
import { subscribeDirectoryEvents } from './entry-points/kafka/directory-events.consumer.ts';
import { CatalogUseCases } from './use-cases/catalog.ts';
import { DeploymentUseCases } from './use-cases/deployments.ts';
import { ResolutionUseCases } from './use-cases/resolution.ts';

await runService({
  name: 'deployments',
  config,
  topics: [
    { topic: topics.catalogEvents, partitions: config.kafka.partitions },
    { topic: topics.auditEntries, partitions: config.kafka.partitions },
  ],
  start: async ({ bus, mongo, logger }) => {
    const models = catalogModels(mongo);
    const deploymentDocs = deploymentModel(mongo);
    const scripts = new CatalogRepository(models.script, 'script');
    const software = new CatalogRepository(models.software, 'software');
    const maintenanceTasks = new CatalogRepository(models.maintenanceTask, 'maintenance-task');
    const deployments = new DeploymentRepository(deploymentDocs);
    const projections = new ProjectionRepository(mongo);
    const generation = new EstateGenerationRepository(mongo);
    const cipher = createSecretCipher(config.secretsKey);

    const catalog = new CatalogUseCases({
      scripts,
      software,
      maintenanceTasks,
      deployments,
      generation,
      cipher,
    });
    const deploymentUseCases = new DeploymentUseCases({
      deployments,
      software,
      maintenanceTasks,
      projections,
      generation,
      cipher,
    });
    const resolution = new ResolutionUseCases({
      projections,
      software,
      maintenanceTasks,
      scripts,
      deployments,
      generation,
      cipher,
      commandSecrets: createCommandSecrets(config.commandSecretsKey),
    });

    // Every catalog and deployment change leaves through its document's outbox.
    const relay = <T>(model: Model<T>): OutboxRelay =>
      startOutboxRelay({
        model,
        logger,
        publish: outboxPublisher(bus),
      });
    const relays = [
      relay(models.script),
      relay(models.software),
      relay(models.maintenanceTask),
      relay(deploymentDocs),
    ];

    // One consumer group per installation (database prefix), shared by its replicas.
    const group = `${config.mongo.databasePrefix}.deployments`;
    const subscriptions = [
      await subscribeComputerEvents(bus, `${group}.computers`, projections),
      await subscribeDirectoryEvents(bus, `${group}.directory`, projections, generation),
    ];

    const grpcServer = await startGrpcServer({ ...config.grpc, resolution, logger });

    return {
      openApiDocument: fileURLToPath(new URL('entry-points/http/openapi.yaml', import.meta.url)),
      routes: (router) => {
        catalogRouter(catalog, { scripts, software, maintenanceTasks })(router);
        deploymentsRouter(deploymentUseCases, resolution)(router);
        resolutionRouter(resolution)(router);
      },
      stop: async () => {
        await grpcServer.stop();
        await Promise.all(subscriptions.map((subscription) => subscription.stop()));
        await Promise.all(relays.map((relay) => relay.stop()));
      },
    };
  },
});
