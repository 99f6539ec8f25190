interface Waiting<Job, Outcome> {
  job: Job;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: jobs that arrive while a flush is in flight go out together in the next one, so an owner busy with
 * several partitions makes one database write and one Kafka send for their batches instead of one each. A flush
 * answers each job with its own outcome, or fails them all.
 */
export class GroupCommit<Job, Outcome> {
  private readonly flush: (jobs: Job[]) => Promise<Outcome[]>;
  private waiting: Waiting<Job, Outcome>[] = [];
  private draining = false;

  constructor(flush: (jobs: Job[]) => Promise<Outcome[]>) {
    this.flush = flush;
  }

  commit(job: Job): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ job, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      // Jobs of the same turn of the event loop (partitions fetched together) share the first flush.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      try {
        const outcomes = await this.flush(group.map(({ job }) => job));
        group.forEach(({ resolve }, index) => {
          resolve(outcomes[index] as Outcome);
        });
      } catch (error) {
        for (const { reject } of group) reject(error);
      }
    }
    this.draining = false;
  }
}
