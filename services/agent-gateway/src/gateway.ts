import { setTimeout as delay } from 'node:timers/promises';
import type { Subscription } from '@converge/bus';
import { createCommandIds } from '@converge/contracts';
import type { ServiceContext, ServiceParts } from '@converge/runtime';
import { create, GatewayMessageSchema, toBinary } from '@converge/proto';
import { createCommandSecrets } from '@converge/store';
import { agentDirectory } from './agents/agent-directory.ts';
import { authenticateAgent, enrollAgent } from './agents/enrollment.ts';
import { EnrollmentThrottle } from './agents/enrollment-throttle.ts';
import { installTokenService } from './agents/install-tokens.ts';
import type { GatewayConfig } from './config.ts';
import { Admission } from './connections/admission.ts';
import type { AgentEntry } from './connections/agent-connection.ts';
import { ConnectionRegistry } from './connections/connection-registry.ts';
import { ConnectionEpochs } from './credentials/connection-epochs.ts';
import { CredentialCache } from './credentials/credential-cache.ts';
import { agentRepository } from './data-access/agent.repository.ts';
import { connectionEpochRepository } from './data-access/connection-epoch.repository.ts';
import { installTokenRepository } from './data-access/install-token.repository.ts';
import { drainWindowMs, planDrain } from './domain/drain-schedule.ts';
import { startAgentHttpServer } from './entry-points/agent-http/agent-http-server.ts';
import { startAgentGrpcServer } from './entry-points/grpc/agent-gateway.grpc.ts';
import { agentRoutes } from './entry-points/http/agents.routes.ts';
import { installTokenRoutes } from './entry-points/http/install-tokens.routes.ts';
import { commandConsumerTuning, subscribeCommands } from './entry-points/kafka/commands.consumer.ts';
import { createGatewayMetrics } from './gateway-metrics.ts';
import { redisKeys } from './redis-keys.ts';
import { startPresenceJanitor } from './presence/presence-janitor.ts';
import { PresenceStore } from './presence/presence-store.ts';
import { EventQueue } from './publishing/event-queue.ts';
import { CommandRouter } from './routing/command-router.ts';
import { ReplicaChannel } from './routing/replica-channel.ts';

const openApiDocument = new URL('./entry-points/http/openapi.yaml', import.meta.url).pathname;
// How often a draining replica looks whether its agents are gone, and sends the Drain frames now due.
const drainTickMs = 50;
// Under load, each send of events waits this long after the previous one, so that sends carry many events:
// most of a send's cost, in the gateway and in the broker, is per request, and every millisecond the results
// path spends is one the command path does not get (bench:gateway, 5,000 results/s).
const eventLingerMs = 25;

/**
 * Starts the gateway's parts (agent listeners, presence, routing, the command consumer, the REST API) and
 * returns how to drain them. Started by `main.ts` through `runService`.
 */
export async function startGateway(ctx: ServiceContext<GatewayConfig>): Promise<ServiceParts> {
  const { config, logger, bus, mongo, redis } = ctx;
  const replicaId = config.replica.id;
  const keys = redisKeys(config.replica.redisKeyPrefix);
  const agents = agentRepository(mongo);
  const installTokens = installTokenRepository(mongo);
  const credentials = new CredentialCache({
    redis,
    keys,
    agents,
    ttlMs: config.credentialCache.ttlMs,
    maxEntries: config.credentialCache.maxEntries,
    logger,
  });
  const epochs = new ConnectionEpochs({ redis, keys, issued: connectionEpochRepository(mongo), logger });
  await epochs.start();
  const events = new EventQueue(bus, logger, eventLingerMs);
  const presence = new PresenceStore({
    redis,
    keys,
    replicaId,
    flushIntervalMs: config.replica.presenceFlushIntervalMs,
    leaseTtlMs: config.replica.leaseTtlMs,
    logger,
  });

  const registry: ConnectionRegistry = new ConnectionRegistry({
    idleTimeoutMs: config.agents.idleTimeoutMs,
    helloTimeoutMs: config.agents.helloTimeoutMs,
    sendBufferLimit: config.agents.sendBufferLimit,
    session: {
      replicaId,
      heartbeatIntervalMs: config.agents.heartbeatIntervalMs,
      logger,
      events,
      presence,
      commandIds: createCommandIds(config.commandIdKey),
      onForeignReport: () => {
        metrics.foreignReport();
      },
    },
    onGreeted: (session) => {
      // The agent may still hold an older connection on another replica: that one closes as superseded.
      const { agentId, epoch } = session.agent;
      presence
        .get(agentId)
        .then(async (entry) => {
          if (entry !== undefined && entry.replica !== replicaId) {
            await channel.closeSuperseded(entry.replica, agentId, epoch);
          }
        })
        .catch((error: unknown) => {
          logger.warn({ err: error, agentId }, 'older connection elsewhere not told to close');
        });
    },
  });
  const metrics = createGatewayMetrics(() => registry.size);
  const router = new CommandRouter({
    replicaId,
    registry,
    presence,
    channel: () => channel,
    events,
    metrics,
    presenceLagMs: config.replica.presenceFlushIntervalMs * 2,
    commandMaxAgeMs: config.commandMaxAgeMs,
    // Commands are consumed again after a rebalance from the last offsets committed in the background.
    redeliveryWindowMs: commandConsumerTuning.commitIntervalMs * 10,
    commandSecrets: createCommandSecrets(config.commandSecretsKey),
    logger,
  });
  const channel: ReplicaChannel = new ReplicaChannel({
    redis,
    keys,
    replicaId,
    ackTimeoutMs: config.replica.forwardAckTimeoutMs,
    logger,
    handlers: {
      deliverCommand: (command) => router.deliverForwarded(command),
      deliverCancel: (cancel) => {
        router.deliverCancelLocally(cancel);
      },
      closeAgent: (agentId, reason, beforeEpoch) => {
        registry.closeAgent(agentId, reason, beforeEpoch);
      },
      credentialRevoked: (agentId) => {
        credentials.revoked(agentId);
        registry.closeRevoked(agentId);
      },
      resubscribed: () => {
        credentials.clear();
      },
    },
  });
  await channel.start();
  await presence.start();
  const janitor = startPresenceJanitor({
    redis,
    keys,
    replicaId,
    intervalMs: config.replica.janitorIntervalMs,
    agents,
    events,
    logger,
  });

  let draining = false;
  const admission = new Admission(config.admission);
  const stores = { agents, installTokens, credentials };
  const entry: AgentEntry = {
    admit: () => admission.admit(),
    retryAfterSeconds: admission.retryAfterSeconds,
    authenticate: (authorization) => authenticateAgent({ credentials, epochs }, authorization),
    open: (connection, agent) => registry.open(connection, agent),
    enroll: async (installToken) => {
      const enrolled = await enrollAgent(stores, { installToken }, new Date());
      logger.info({ agentId: enrolled.agentId, tenantId: enrolled.tenantId }, 'agent enrolled');
      return { agentId: enrolled.agentId, credentialSecret: enrolled.credentialSecret };
    },
    accepted: (transport) => {
      metrics.accepted(transport);
    },
    authFailed: (transport) => {
      metrics.authFailed(transport);
    },
    draining: () => draining,
  };
  const listenerOptions = {
    host: config.agents.host,
    maxFrameBytes: config.agents.maxFrameBytes,
    entry,
    enrollment: new EnrollmentThrottle({
      redis,
      keyPrefix: `${config.replica.redisKeyPrefix}:enrollment`,
      ...config.enrollment,
      logger,
    }),
    logger,
  };
  const httpListener = await startAgentHttpServer({ ...listenerOptions, port: config.agents.port });
  const grpcListener = await startAgentGrpcServer({ ...listenerOptions, port: config.agents.grpcPort });
  logger.info(
    { agentPort: httpListener.port, agentGrpcPort: grpcListener.port, replica: replicaId },
    'agent listeners ready',
  );

  const commands: Subscription = await subscribeCommands(
    bus,
    config.commandsGroupId,
    router,
    config.kafka.partitions,
  );

  const directory = agentDirectory({
    agents,
    presence,
    epochs,
    credentials,
    announceRevocation: async (agentId) => {
      const { replicas, acknowledged } = await channel.announceRevocation(agentId);
      if (acknowledged < replicas) {
        logger.warn(
          { agentId, replicas, acknowledged },
          'not every replica acknowledged a revocation in time',
        );
      }
    },
  });
  const tokens = installTokenService(installTokens);

  /**
   * SIGTERM: stop accepting, hand the command partitions to the other replicas (which forward to us while
   * our agents are still here), tell agents to reconnect elsewhere, paced and jittered, close what remains
   * at the deadline, then give up presence and the lease.
   */
  async function drain(): Promise<void> {
    const startedAt = Date.now();
    const deadline = startedAt + drainWindowMs(config.shutdownTimeoutMs, config.drain.marginMs);
    draining = true;
    admission.close();
    httpListener.stopAccepting();
    grpcListener.stopAccepting();
    await commands.stop();

    const sessions = registry.sessions();
    const spreadMs = Math.min(config.drain.spreadMs, (deadline - Date.now()) / 2);
    const plan = planDrain(sessions.length, Math.max(0, spreadMs), config.drain.reconnectMaxMs, Math.random);
    logger.info({ agents: sessions.length, spreadMs }, 'draining agents');
    let next = 0;
    while (Date.now() < deadline && (registry.size > 0 || next < sessions.length)) {
      const elapsed = Date.now() - startedAt;
      for (; next < sessions.length && (plan.sendAtMs[next] ?? 0) <= elapsed; next++) {
        const session = sessions[next];
        if (session === undefined) continue;
        session.drainSent = true;
        const reconnectAfterMs = plan.reconnectAfterMs[next] ?? 0;
        session.sendEncoded(
          toBinary(
            GatewayMessageSchema,
            create(GatewayMessageSchema, {
              kind: { case: 'drain', value: { reconnectAfterMs, reason: 'gateway replica shutting down' } },
            }),
          ),
        );
      }
      if (registry.size === 0 && next >= sessions.length) break;
      await delay(drainTickMs);
    }
    const remaining = registry.sessions().length;
    registry.closeAll('going-away');
    if (remaining > 0) await delay(drainTickMs * 2);
    logger.info({ closedAtDeadline: remaining }, 'agents drained');

    registry.stop();
    janitor.stop();
    await presence.stop();
    await events.flush();
    await channel.stop();
    httpListener.close();
    grpcListener.close();
  }

  return {
    openApiDocument,
    routes: (apiRouter) => {
      installTokenRoutes(apiRouter, tokens);
      agentRoutes(apiRouter, directory);
    },
    stop: drain,
  };
}
