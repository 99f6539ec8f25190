import { setTimeout as delay } from 'node:timers/promises';
import {
  commandCompleted,
  type AgentCommandCancelRequested,
  type AgentCommandRequested,
} from '@converge/contracts';
import { create, GatewayMessageSchema, toBinary } from '@converge/proto';
import type { CommandSecrets } from '@converge/store';
import type { Logger } from '@converge/telemetry';
import type { AuthenticatedAgent } from '../connections/agent-connection.ts';
import type { ConnectionRegistry, Delivery } from '../connections/connection-registry.ts';
import { isExpired, notRunEvent, withSecretsOpened } from '../domain/agent-command.ts';
import { commandFrameBytes } from '../domain/command-frame-encoding.ts';
import type { GatewayMetrics } from '../gateway-metrics.ts';
import type { PresenceStore } from '../presence/presence-store.ts';
import type { EventQueue } from '../publishing/event-queue.ts';
import { RecentDeliveries } from './recent-deliveries.ts';
import type { ReplicaChannel } from './replica-channel.ts';

export interface CommandRouterOptions {
  replicaId: string;
  registry: ConnectionRegistry;
  presence: PresenceStore;
  channel: () => ReplicaChannel;
  events: EventQueue;
  metrics: GatewayMetrics;
  /** How long presence may lag behind a reconnect (the flush interval, twice). */
  presenceLagMs: number;
  /** Older commands are answered `undeliverable` instead of delivered. */
  commandMaxAgeMs: number;
  /** How long a command written to a connection is not written to it again (a redelivery after a rebalance). */
  redeliveryWindowMs: number;
  /** Opens secret parameters for the agent a command is written to (`COMMAND_SECRETS_KEY`). */
  commandSecrets: CommandSecrets;
  logger: Logger;
}

/** `refused`: the command's secret parameters do not open for the agent's connection, so it must not run. */
type LocalDelivery = Delivery | 'refused';

const refusedWhy = 'a secret parameter of the command does not open for this agent';

type ForwardResult = { kind: 'delivered' } | { kind: 'retry' } | { kind: 'undeliverable'; why: string };

function cancelBytes(cancel: AgentCommandCancelRequested): Uint8Array {
  return toBinary(
    GatewayMessageSchema,
    create(GatewayMessageSchema, { kind: { case: 'cancel', value: { commandId: cancel.commandId } } }),
  );
}

/**
 * Routes a command to the one replica holding its agent: written here if the agent is here, forwarded over
 * pub/sub if another live replica holds it, and otherwise answered `undeliverable` at once, so the session
 * can wait for the agent's next `connected` event. Resolves only once the command was written or answered,
 * so the consumer commits its offset only then.
 */
export class CommandRouter {
  private readonly opts: CommandRouterOptions;
  private readonly recent: RecentDeliveries<AuthenticatedAgent>;

  constructor(opts: CommandRouterOptions) {
    this.opts = opts;
    this.recent = new RecentDeliveries(opts.redeliveryWindowMs, Date.now());
  }

  /**
   * Writes a command to a local agent, once per connection, its secret parameters opened only here, for the
   * connection's authenticated agent, and never logged.
   */
  private deliverLocally(command: AgentCommandRequested): LocalDelivery {
    const { registry } = this.opts;
    const session = registry.sessionOf(command.agentId);
    if (session === undefined) return 'absent';
    // Each connection authenticated as its own object, which names it (agent and epoch) without a key built
    // per command.
    const connection = session.agent;
    const nowMs = Date.now();
    if (this.recent.has(command.commandId, connection, nowMs)) return 'sent';
    let opened: AgentCommandRequested;
    try {
      opened = withSecretsOpened(command, connection, this.opts.commandSecrets);
    } catch (error) {
      this.opts.logger.warn(
        { commandId: command.commandId, agentId: connection.agentId, reason: (error as Error).message },
        'command refused: its secret parameters are not sealed for this agent',
      );
      return 'refused';
    }
    const delivery = registry.deliverTo(session, commandFrameBytes(opened));
    if (delivery === 'sent') this.recent.add(command.commandId, connection, nowMs);
    return delivery;
  }

  /**
   * A command another replica forwarded here; true when it is answered for (written, or refused and answered
   * `failed-to-start` from here), so the sender does not answer it `undeliverable` as well.
   */
  deliverForwarded(command: AgentCommandRequested): boolean {
    const started = performance.now();
    const delivery = this.deliverLocally(command);
    if (delivery === 'sent') this.opts.metrics.dispatched(performance.now() - started, 'local');
    if (delivery === 'refused') {
      this.notRun(command, 'failed-to-start', refusedWhy).catch((error: unknown) => {
        this.opts.logger.error({ err: error, commandId: command.commandId }, 'refused command not answered');
      });
    }
    return delivery === 'sent' || delivery === 'refused';
  }

  async route(command: AgentCommandRequested, consumedAtMs: number): Promise<void> {
    const { metrics } = this.opts;
    if (isExpired(command, Date.now(), this.opts.commandMaxAgeMs)) {
      await this.undeliverable(command, 'the command waited too long to be delivered');
      return;
    }
    const local = this.deliverLocally(command);
    if (local === 'sent') {
      metrics.dispatched(performance.now() - consumedAtMs, 'local');
      return;
    }
    if (local === 'dropped') {
      await this.undeliverable(command, 'the agent was not reading its connection, which was closed');
      return;
    }
    if (local === 'refused') {
      await this.notRun(command, 'failed-to-start', refusedWhy);
      return;
    }
    const outcome = await this.forward(command);
    if (outcome.kind === 'delivered') {
      metrics.dispatched(performance.now() - consumedAtMs, 'forwarded');
      return;
    }
    if (outcome.kind === 'retry') {
      // The agent may be between replicas (a drain): wait until its new presence is written, then try again.
      await delay(this.opts.presenceLagMs);
      const retried = this.deliverLocally(command);
      if (retried === 'sent') {
        metrics.dispatched(performance.now() - consumedAtMs, 'local');
        return;
      }
      if (retried === 'refused') {
        await this.notRun(command, 'failed-to-start', refusedWhy);
        return;
      }
      const second = await this.forward(command);
      if (second.kind === 'delivered') {
        metrics.dispatched(performance.now() - consumedAtMs, 'forwarded');
        return;
      }
      await this.undeliverable(command, 'the agent is not connected');
      return;
    }
    await this.undeliverable(command, outcome.why);
  }

  async cancel(cancel: AgentCommandCancelRequested): Promise<void> {
    if (this.deliverCancelLocally(cancel)) return;
    const presence = await this.opts.presence.get(cancel.agentId);
    if (
      presence !== undefined &&
      presence.replica !== this.opts.replicaId &&
      (await this.opts.presence.isLive(presence.replica))
    ) {
      await this.opts.channel().forwardCancel(presence.replica, cancel);
      return;
    }
    this.opts.logger.info(
      { commandId: cancel.commandId, agentId: cancel.agentId },
      'cancel for an agent that is not connected dropped',
    );
  }

  deliverCancelLocally(cancel: AgentCommandCancelRequested): boolean {
    return this.opts.registry.deliver(cancel.agentId, cancelBytes(cancel)) === 'sent';
  }

  /** Forwards to the replica presence names; `retry` when presence may be behind the agent's reconnect. */
  private async forward(command: AgentCommandRequested): Promise<ForwardResult> {
    const presence = await this.opts.presence.get(command.agentId);
    if (presence === undefined) return { kind: 'undeliverable', why: 'the agent is not connected' };
    if (presence.replica === this.opts.replicaId) return { kind: 'retry' };
    if (!(await this.opts.presence.isLive(presence.replica))) {
      return { kind: 'undeliverable', why: 'the gateway replica that held the agent has stopped' };
    }
    this.opts.metrics.forwarded();
    const outcome = await this.opts.channel().forwardCommand(presence.replica, command);
    if (outcome === 'delivered') return { kind: 'delivered' };
    if (outcome === 'absent') return { kind: 'retry' };
    return {
      kind: 'undeliverable',
      why: `gateway replica ${presence.replica} did not acknowledge the command`,
    };
  }

  /**
   * Resolves once the answer is published, so the command's offset is committed only after it. Keyed by
   * the session, like every result, so the session reads it in order with the command's other results.
   */
  private async undeliverable(command: AgentCommandRequested, why: string): Promise<void> {
    this.opts.metrics.undeliverable();
    await this.notRun(command, 'undeliverable', why);
  }

  private async notRun(
    command: AgentCommandRequested,
    outcome: 'undeliverable' | 'failed-to-start',
    why: string,
  ): Promise<void> {
    await this.opts.events.publish(commandCompleted, {
      subject: command.sessionId,
      tenantId: command.tenantId,
      data: notRunEvent(command, outcome, why, new Date()),
    });
  }
}
