import { setTimeout as delay } from 'node:timers/promises';
import { contractEvent, type Bus, type ContractEvent, type OutgoingEvent } from '@converge/bus';
import type { EventContract } from '@converge/contracts';
import type { Logger } from '@converge/telemetry';

const maxBatch = 500;

/** What the queue needs of the bus. */
export type EventSender = Pick<Bus, 'publishAll'>;

interface Waiter {
  /** The events still to be published before this waiter is answered. */
  pending: Set<ContractEvent>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Publishes the gateway's events in the order they happened, batching: whatever is queued goes out in one
 * `publishAll` (output chunks and results of a busy fleet, a reconnect storm's `connected` and facts events
 * together), in order per topic, so a command's result never overtakes its chunks. Under load, each send waits
 * `lingerMs` after the previous one, so that sends carry many events: most of a send's cost is per request.
 * Callers validate events before queueing them, so a batch cannot fail on a contract.
 */
export class EventQueue {
  private readonly bus: EventSender;
  private readonly logger: Logger;
  private readonly lingerMs: number;
  private queue: ContractEvent[] = [];
  private inFlight: ContractEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  private draining = false;

  constructor(bus: EventSender, logger: Logger, lingerMs: number) {
    this.bus = bus;
    this.logger = logger;
    this.lingerMs = lingerMs;
  }

  enqueue<T>(contract: EventContract<T>, event: OutgoingEvent<T>): void {
    this.queue.push(contractEvent(contract, event));
    this.startDraining();
  }

  /** Queues the event and resolves once it is published; rejects if its send failed. */
  publish<T>(contract: EventContract<T>, event: OutgoingEvent<T>): Promise<void> {
    const queued = contractEvent(contract, event);
    this.queue.push(queued);
    this.startDraining();
    return this.wait(new Set([queued]));
  }

  /** Resolves once everything queued so far is published or given up on (a stopping replica). */
  flush(): Promise<void> {
    return this.wait(new Set([...this.inFlight, ...this.queue])).catch(() => undefined);
  }

  private wait(pending: Set<ContractEvent>): Promise<void> {
    if (pending.size === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.add({ pending, resolve, reject });
    });
  }

  private startDraining(): void {
    if (this.draining) return;
    this.draining = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    // Let the current turn of the event loop queue what it has, so it goes out in one batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, maxBatch);
      this.inFlight = batch;
      let failure: unknown;
      try {
        await this.bus.publishAll(batch);
      } catch (error) {
        failure = error;
        this.logger.error({ err: error, count: batch.length }, 'events could not be published');
      }
      this.inFlight = [];
      this.settle(batch, failure);
      if (this.queue.length > 0 && this.queue.length < maxBatch) await delay(this.lingerMs);
    }
    this.draining = false;
  }

  private settle(batch: ContractEvent[], failure: unknown): void {
    for (const waiter of this.waiters) {
      let failed = false;
      for (const event of batch) {
        if (waiter.pending.delete(event) && failure !== undefined) failed = true;
      }
      if (failed) {
        this.waiters.delete(waiter);
        waiter.reject(failure);
      } else if (waiter.pending.size === 0) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}
