interface Waiting<Request, Result> {
  request: Request;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

export interface BatcherOptions<Request, Result> {
  /** Answers a batch of requests in one round trip, one result per request, in order. */
  run(requests: Request[]): Promise<Result[]>;
  maxBatch: number;
  /** Round trips in flight at once; what arrives meanwhile waits and goes out together. */
  maxInFlight: number;
}

/**
 * Gathers requests made while a round trip is in flight (or within the current turn of the event loop) and
 * answers them with one round trip: at low load a request goes out alone and at once, under a reconnect
 * storm hundreds share one Redis call or store query.
 */
export class Batcher<Request, Result> {
  private readonly opts: BatcherOptions<Request, Result>;
  private queue: Waiting<Request, Result>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(opts: BatcherOptions<Request, Result>) {
    this.opts = opts;
  }

  submit(request: Request): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // After the I/O callbacks of this turn, so the connections accepted in it share the round trip.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight++;
      this.opts
        .run(batch.map((waiting) => waiting.request))
        .then(
          (results) => {
            batch.forEach((waiting, index) => {
              const result = results[index];
              if (result === undefined)
                waiting.reject(new Error('a batch answered fewer results than asked'));
              else waiting.resolve(result);
            });
          },
          (error: unknown) => {
            for (const waiting of batch) waiting.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.schedule();
        });
    }
  }
}
