import type { Bus, OutgoingEvent } from '@converge/bus';
import type { EventContract } from '@converge/contracts';
import type { Logger } from '@converge/telemetry';

interface Queued {
  contract: EventContract<unknown>;
  event: OutgoingEvent<unknown>;
}

const maxBatch = 500;

/**
 * Publishes the gateway's events in the order they happened, batching while a send is in flight: output
 * chunks of a busy fleet go out as a few `publishMany` calls, and a command's result never overtakes
 * its chunks. Callers validate events before queueing them, so a batch cannot fail on a contract.
 */
export class EventQueue {
  private readonly bus: Bus;
  private readonly logger: Logger;
  private queue: Queued[] = [];
  private flushing: Promise<void> | undefined;

  constructor(bus: Bus, logger: Logger) {
    this.bus = bus;
    this.logger = logger;
  }

  enqueue<T>(contract: EventContract<T>, event: OutgoingEvent<T>): void {
    this.queue.push({ contract, event });
    this.flushing ??= this.drain();
  }

  /** Resolves once everything queued so far is published. */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  private async drain(): Promise<void> {
    // Let the current turn of the event loop queue what it has, so it goes out in one batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const first = this.queue[0];
      if (first === undefined) break;
      let count = 1;
      while (count < maxBatch && count < this.queue.length && this.queue[count]?.contract === first.contract)
        count++;
      const batch = this.queue.splice(0, count);
      try {
        await this.bus.publishMany(
          first.contract,
          batch.map((item) => item.event),
        );
      } catch (error) {
        this.logger.error({ err: error, type: first.contract.type, count }, 'events could not be published');
      }
    }
    this.flushing = undefined;
  }
}
