import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AgentCommandCancelRequested, AgentCommandRequested } from '@converge/contracts';
import type { Logger } from '@converge/telemetry';
import type { RedisKeys } from '../redis-keys.ts';

/** What replicas tell each other on their pub/sub channels (`revoked` goes to all of them at once). */
type ReplicaMessage =
  | { kind: 'command'; from: string; requestId: string; command: AgentCommandRequested }
  | { kind: 'ack'; requestId: string; delivered: boolean }
  | { kind: 'revoked'; from: string; requestId: string; agentId: string }
  | { kind: 'cancel'; cancel: AgentCommandCancelRequested }
  | {
      kind: 'close';
      agentId: string;
      // Replicas of the previous version still send `credential-revoked` here during a rolling upgrade.
      reason: 'superseded' | 'credential-revoked';
      beforeEpoch: number | null;
    };

export type ForwardOutcome = 'delivered' | 'absent' | 'no-answer';

export interface ReplicaHandlers {
  /** A command forwarded by another replica: true when the agent is here and the frame was written. */
  deliverCommand(command: AgentCommandRequested): boolean;
  deliverCancel(cancel: AgentCommandCancelRequested): void;
  closeAgent(
    agentId: string,
    reason: 'superseded' | 'credential-revoked',
    beforeEpoch: number | undefined,
  ): void;
  /** An agent's credential was revoked: forget it and close the agent's connections here. */
  credentialRevoked(agentId: string): void;
  /** The subscription was re-established: broadcasts may have been missed meanwhile. */
  resubscribed(): void;
}

export interface ReplicaChannelOptions {
  redis: Redis;
  keys: RedisKeys;
  replicaId: string;
  ackTimeoutMs: number;
  handlers: ReplicaHandlers;
  logger: Logger;
}

/**
 * Redis pub/sub between gateway replicas: each listens on `<prefix>:replica:<id>` and on the shared
 * `<prefix>:replicas`. A command consumed by one replica for an agent held by another is forwarded here and
 * acknowledged by the holder; a revoked credential is announced to all and acknowledged by each.
 */
export class ReplicaChannel {
  private readonly opts: ReplicaChannelOptions;
  private readonly subscriber: Redis;
  /** Request id → what to do with each acknowledgement of it. */
  private readonly waiting = new Map<string, (delivered: boolean) => void>();
  private subscribed = false;

  constructor(opts: ReplicaChannelOptions) {
    this.opts = opts;
    // A subscribed connection can do nothing else; it queues while reconnecting and resubscribes itself.
    this.subscriber = opts.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', (error: Error) => {
      opts.logger.warn({ err: error.message }, 'replica channel connection error');
    });
    this.subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
      this.receive(message.toString('utf8'));
    });
    this.subscriber.on('ready', () => {
      if (this.subscribed) opts.handlers.resubscribed();
    });
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(this.opts.keys.replica(this.opts.replicaId), this.opts.keys.replicas);
    this.subscribed = true;
  }

  async stop(): Promise<void> {
    for (const resolve of this.waiting.values()) resolve(false);
    this.waiting.clear();
    await this.subscriber.quit().catch(() => undefined);
  }

  async forwardCommand(replicaId: string, command: AgentCommandRequested): Promise<ForwardOutcome> {
    const requestId = randomUUID();
    const acked = new Promise<ForwardOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        resolve('no-answer');
      }, this.opts.ackTimeoutMs);
      this.waiting.set(requestId, (delivered) => {
        clearTimeout(timer);
        this.waiting.delete(requestId);
        resolve(delivered ? 'delivered' : 'absent');
      });
    });
    const receivers = await this.publish(replicaId, {
      kind: 'command',
      from: this.opts.replicaId,
      requestId,
      command,
    });
    if (receivers === 0) this.waiting.get(requestId)?.(false);
    return acked;
  }

  /**
   * Announces a revoked credential to every replica (this one too) and waits until each has acknowledged
   * (or the acknowledgement timeout passed), so the revocation answers only once no replica accepts the
   * credential any longer.
   */
  async announceRevocation(agentId: string): Promise<{ replicas: number; acknowledged: number }> {
    const requestId = randomUUID();
    let acknowledged = 0;
    let expected = Number.POSITIVE_INFINITY;
    let done: () => void = () => undefined;
    const allAcknowledged = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.waiting.set(requestId, () => {
      acknowledged++;
      if (acknowledged >= expected) done();
    });
    const timer = setTimeout(done, this.opts.ackTimeoutMs);
    try {
      expected = await this.publishTo(this.opts.keys.replicas, {
        kind: 'revoked',
        from: this.opts.replicaId,
        requestId,
        agentId,
      });
      if (acknowledged >= expected) done();
      await allAcknowledged;
      return { replicas: expected, acknowledged };
    } finally {
      clearTimeout(timer);
      this.waiting.delete(requestId);
    }
  }

  async forwardCancel(replicaId: string, cancel: AgentCommandCancelRequested): Promise<void> {
    await this.publish(replicaId, { kind: 'cancel', cancel });
  }

  /** Closes the agent's connection on that replica if it is older than `beforeEpoch`. */
  async closeSuperseded(replicaId: string, agentId: string, beforeEpoch: number): Promise<void> {
    await this.publish(replicaId, { kind: 'close', agentId, reason: 'superseded', beforeEpoch });
  }

  private publish(replicaId: string, message: ReplicaMessage): Promise<number> {
    return this.publishTo(this.opts.keys.replica(replicaId), message);
  }

  private publishTo(channel: string, message: ReplicaMessage): Promise<number> {
    return this.opts.redis.publish(channel, JSON.stringify(message));
  }

  private acknowledge(to: string, requestId: string, delivered: boolean): void {
    this.publish(to, { kind: 'ack', requestId, delivered }).catch((error: unknown) => {
      this.opts.logger.warn({ err: error, to }, 'replica message not acknowledged');
    });
  }

  private receive(text: string): void {
    let message: ReplicaMessage;
    try {
      message = JSON.parse(text) as ReplicaMessage;
    } catch {
      this.opts.logger.warn('unreadable replica message dropped');
      return;
    }
    const { handlers } = this.opts;
    switch (message.kind) {
      case 'command':
        this.acknowledge(message.from, message.requestId, handlers.deliverCommand(message.command));
        return;
      case 'revoked':
        handlers.credentialRevoked(message.agentId);
        this.acknowledge(message.from, message.requestId, true);
        return;
      case 'ack':
        this.waiting.get(message.requestId)?.(message.delivered);
        return;
      case 'cancel':
        handlers.deliverCancel(message.cancel);
        return;
      case 'close':
        handlers.closeAgent(message.agentId, message.reason, message.beforeEpoch ?? undefined);
        return;
    }
  }
}
