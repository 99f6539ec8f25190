import {
  AgentMessageSchema,
  create,
  type AgentMessage,
  type CommandResult,
  type OutputChunk,
} from '@converge/proto';
import type { CommandSink } from '../command-executor.ts';
import type { Logger } from '../logger.ts';
import type { AgentChannel } from './agent-channel.ts';

export interface OutboundLimits {
  /** Output kept while disconnected; beyond it chunks are dropped (the script's result still says how it ended). */
  maxQueuedChunkBytes: number;
  /** Results kept while disconnected; the oldest goes first (the executor still remembers it for a resend). */
  maxQueuedResults: number;
}

/**
 * Everything the agent sends about commands goes through one ordered queue: sent at once while a channel is
 * up, kept while it is not, and sent first, in order, on the next connection. A frame whose send failed stays
 * at the head and is sent again (consumers drop a chunk seen twice by its seq, a result by its command id).
 */
export class OutboundQueue implements CommandSink {
  readonly #limits: OutboundLimits;
  readonly #logger: Logger;
  readonly #queue: AgentMessage[] = [];
  #queuedChunkBytes = 0;
  #queuedResults = 0;
  #channel: AgentChannel | undefined;
  #flushing: Promise<void> | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(limits: OutboundLimits, logger: Logger) {
    this.#limits = limits;
    this.#logger = logger;
  }

  get size(): number {
    return this.#queue.length;
  }

  chunk(chunk: OutputChunk): void {
    if (!this.#channel && this.#queuedChunkBytes + chunk.data.length > this.#limits.maxQueuedChunkBytes) {
      this.#logger.warn(
        { commandId: chunk.commandId, seq: chunk.seq },
        'disconnected and output queue full; chunk dropped',
      );
      return;
    }
    this.#queuedChunkBytes += chunk.data.length;
    this.#push(create(AgentMessageSchema, { kind: { case: 'outputChunk', value: chunk } }));
  }

  result(result: CommandResult): void {
    if (this.#queuedResults >= this.#limits.maxQueuedResults) {
      const oldest = this.#queue.findIndex((message) => message.kind.case === 'commandResult');
      const [dropped] = this.#queue.splice(oldest, 1);
      this.#queuedResults -= 1;
      this.#logger.warn(
        { commandId: dropped?.kind.case === 'commandResult' ? dropped.kind.value.commandId : undefined },
        'result queue full; oldest unsent result dropped',
      );
    }
    this.#queuedResults += 1;
    this.#push(create(AgentMessageSchema, { kind: { case: 'commandResult', value: result } }));
  }

  /** A channel is up (welcomed): send what waits. */
  attach(channel: AgentChannel): void {
    this.#channel = channel;
    this.#startFlush();
  }

  detach(channel: AgentChannel): void {
    if (this.#channel === channel) this.#channel = undefined;
  }

  /** Resolves when nothing waits to be sent, or after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<void> {
    if (this.#queue.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  #push(message: AgentMessage): void {
    this.#queue.push(message);
    this.#startFlush();
  }

  #startFlush(): void {
    if (this.#flushing) return;
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined;
      if (this.#queue.length > 0 && this.#channel) this.#startFlush();
    });
  }

  async #flush(): Promise<void> {
    for (;;) {
      const channel = this.#channel;
      const head = this.#queue[0];
      if (!channel || !head) break;
      try {
        await channel.send(head);
      } catch {
        // The channel died under us; the frame stays first in line for the next one.
        this.detach(channel);
        break;
      }
      this.#queue.shift();
      if (head.kind.case === 'outputChunk') this.#queuedChunkBytes -= head.kind.value.data.length;
      else if (head.kind.case === 'commandResult') this.#queuedResults -= 1;
    }
    if (this.#queue.length === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
