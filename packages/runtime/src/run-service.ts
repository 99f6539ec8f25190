import type { Router } from 'express';
import { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import {
  accessMiddleware,
  createEffectiveAccess,
  effectiveAccessStore,
  type ImpersonatedRequest,
} from '@converge/access';
import { createTokenVerifier } from '@converge/auth';
import { createBus, type Bus } from '@converge/bus';
import { createHttpApp, startHttpServer } from '@converge/http';
import { connectMongo, mongoReadiness } from '@converge/store';
import { createLogger, startTelemetry, type Logger } from '@converge/telemetry';
import type { ServiceConfig } from '@converge/config';
import { startOwnerReplies, type OwnerReplies } from './owner-replies.ts';
import { connectRedis, redisReadiness } from './redis.ts';

type TopicSpec = Parameters<Bus['ensureTopics']>[0][number];

/** What a service hands to the shared start-up: the topics it owns and how to start its entry points. */
export interface ServiceDefinition<C extends ServiceConfig> {
  /** The service name: the `ce_source` of its events, its database name and its log and trace name. */
  name: string;
  config: C;
  /** Topics this service owns (ARCHITECTURE.md §2); created at start with their dead-letter topics. */
  topics: TopicSpec[];
  start(context: ServiceContext<C>): Promise<ServiceParts>;
}

export interface ServiceContext<C extends ServiceConfig> {
  config: C;
  logger: Logger;
  bus: Bus;
  mongo: Connection;
  redis: Redis;
  /** Answers between this service's request handlers and its partition owners (made once, stopped at shutdown). */
  ownerReplies: () => Promise<OwnerReplies>;
}

/** The entry points a service started: its REST routes and whatever it must stop on shutdown. */
export interface ServiceParts {
  /** Mounted under /api/v1, authenticated, validated against `openApiDocument`. */
  routes?: (router: Router) => void;
  openApiDocument?: string;
  /** Audits an impersonated request; a service without it refuses impersonated requests. */
  onImpersonation?: (request: ImpersonatedRequest) => Promise<void>;
  /** Stops the service's own consumers and workers; called after the HTTP server stopped accepting. */
  stop?: () => Promise<void>;
}

export interface RunningService {
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts a service in the order STYLE.md asks for (config is already parsed, then telemetry, then
 * the clients it observes, then the entry points) and drains it on SIGTERM/SIGINT: readiness turns
 * false first so the load balancer stops sending, in-flight requests and messages finish, offsets
 * are committed, and the process exits within the configured deadline.
 */
export async function runService<C extends ServiceConfig>(
  definition: ServiceDefinition<C>,
): Promise<RunningService> {
  const { name, config } = definition;
  const telemetry = startTelemetry({
    serviceName: name,
    ...(config.otel.tracesEndpoint ? { otlpTracesEndpoint: config.otel.tracesEndpoint } : {}),
  });
  const logger = createLogger({ service: name, level: config.logLevel });
  logProcessWarnings(logger);

  const redis = connectRedis(config.redis.url);
  redis.on('error', (error: Error) => {
    logger.warn({ err: error.message }, 'redis connection error');
  });
  const mongo = await connectMongo({
    uri: config.mongo.uri,
    dbName: `${config.mongo.databasePrefix}_${name.replace(/-/g, '_')}`,
    logger,
  });
  const bus = createBus({
    brokers: config.kafka.brokers,
    clientId: name,
    source: name,
    logger,
    topicPrefix: config.kafka.topicPrefix,
    tls: config.kafka.tls,
    ...(config.kafka.sasl ? { sasl: config.kafka.sasl } : {}),
  });
  await bus.connect();
  await bus.ensureTopics(definition.topics);

  let replies: { subscriber: Redis; replies: Promise<OwnerReplies> } | undefined;
  const ownerReplies = (): Promise<OwnerReplies> => {
    if (replies === undefined) {
      // Its own connection: a subscribed connection runs no other command, and it waits for Redis to come back.
      const subscriber = new Redis(config.redis.url, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
      subscriber.on('error', (error: Error) => {
        logger.warn({ err: error.message }, 'redis subscriber connection error');
      });
      replies = { subscriber, replies: startOwnerReplies(redis, subscriber, `converge:${name}:replies:`) };
    }
    return replies.replies;
  };

  const parts = await definition.start({ config, logger, bus, mongo, redis, ownerReplies });

  const accessStore = effectiveAccessStore(redis, config.access.keyPrefix);
  let draining = false;
  const app = createHttpApp({
    service: name,
    logger,
    verifyToken: createTokenVerifier({
      issuer: config.oidc.issuer,
      audience: config.oidc.audience,
      tokenTypes: config.oidc.tokenTypes,
      scope: config.oidc.scope,
      clockToleranceSeconds: Math.floor(config.oidc.clockToleranceMs / 1000),
      maxLifetimeSeconds: Math.floor(config.oidc.maxTokenLifetimeMs / 1000),
    }),
    readiness: [
      { name: 'draining', check: () => Promise.resolve(!draining) },
      { name: 'kafka', check: () => bus.isHealthy() },
      { name: 'mongodb', check: mongoReadiness(mongo) },
      { name: 'redis', check: redisReadiness(redis) },
    ],
    metricsHandler: telemetry.metricsHandler,
    routes: (router) => {
      // Every service authorizes with the effective access sync keeps in Redis (ARCHITECTURE.md §6), so a
      // changed role or an expired user takes effect within seconds, whatever the token still says.
      router.use(
        accessMiddleware({
          store: accessStore,
          resolve: createEffectiveAccess(accessStore),
          ...(parts.onImpersonation ? { onImpersonation: parts.onImpersonation } : {}),
        }),
      );
      parts.routes?.(router);
    },
    ...(parts.openApiDocument ? { openApiDocument: parts.openApiDocument } : {}),
  });
  const server = await startHttpServer(app, config.http);
  logger.info({ port: server.port }, `${name} ready to serve`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      draining = true;
      logger.info('draining');
      const deadline = config.shutdownTimeoutMs;
      await server.close(deadline);
      await parts.stop?.();
      if (replies !== undefined) {
        await (await replies.replies).stop();
        replies.subscriber.disconnect();
      }
      await bus.disconnect();
      await mongo.close();
      redis.disconnect();
      await telemetry.shutdown();
      logger.info('stopped');
    })();
    return stopping;
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const timer = setTimeout(() => {
        logger.error('shutdown deadline passed, exiting');
        process.exit(1);
      }, config.shutdownTimeoutMs + 1_000);
      timer.unref();
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }

  return { port: server.port, stop };
}

/**
 * Process warnings go to the JSON log instead of stderr. (kafkajs' negative request-queue timer, which Node
 * reported as TimeoutNegativeWarning, is fixed in `@converge/bus`.)
 */
function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    logger.warn({ warning: warning.name, detail: warning.message }, 'process warning');
  });
}
