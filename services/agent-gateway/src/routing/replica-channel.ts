import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AgentCommandCancelRequested, AgentCommandRequested } from '@converge/contracts';
import type { Logger } from '@converge/telemetry';
import type { PresenceKeys } from '../redis-keys.ts';

/** What replicas tell each other on their pub/sub channels. */
type ReplicaMessage =
  | { kind: 'command'; from: string; requestId: string; command: AgentCommandRequested }
  | { kind: 'ack'; requestId: string; delivered: boolean }
  | { kind: 'cancel'; cancel: AgentCommandCancelRequested }
  | {
      kind: 'close';
      agentId: string;
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
}

export interface ReplicaChannelOptions {
  redis: Redis;
  keys: PresenceKeys;
  replicaId: string;
  ackTimeoutMs: number;
  handlers: ReplicaHandlers;
  logger: Logger;
}

/**
 * Redis pub/sub between gateway replicas: each listens on `<prefix>:replica:<id>`. A command consumed by
 * one replica for an agent held by another is forwarded here and acknowledged by the holder.
 */
export class ReplicaChannel {
  private readonly opts: ReplicaChannelOptions;
  private readonly subscriber: Redis;
  private readonly waiting = new Map<string, (delivered: boolean) => void>();

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
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(this.opts.keys.replica(this.opts.replicaId));
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

  async forwardCancel(replicaId: string, cancel: AgentCommandCancelRequested): Promise<void> {
    await this.publish(replicaId, { kind: 'cancel', cancel });
  }

  async closeAgent(
    replicaId: string,
    agentId: string,
    reason: 'superseded' | 'credential-revoked',
    beforeEpoch?: number,
  ): Promise<void> {
    await this.publish(replicaId, { kind: 'close', agentId, reason, beforeEpoch: beforeEpoch ?? null });
  }

  private publish(replicaId: string, message: ReplicaMessage): Promise<number> {
    return this.opts.redis.publish(this.opts.keys.replica(replicaId), JSON.stringify(message));
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
      case 'command': {
        const delivered = handlers.deliverCommand(message.command);
        this.publish(message.from, { kind: 'ack', requestId: message.requestId, delivered }).catch(
          (error: unknown) => {
            this.opts.logger.warn({ err: error, to: message.from }, 'forwarded command not acknowledged');
          },
        );
        return;
      }
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
