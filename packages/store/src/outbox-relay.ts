import { randomUUID } from 'node:crypto';
import type { Logger } from '@converge/telemetry';
import type { Model, mongo } from 'mongoose';
import { fromStoredEntry, type OutboxEntry, type StoredOutboxEntry } from './outbox.ts';

export interface OutboxRelayOptions<T> {
  /** The aggregate's model; its schema uses `outboxPlugin`. */
  model: Model<T>;
  /** Sends the entries and resolves once the broker acknowledged all of them. */
  publish: (entries: OutboxEntry[]) => Promise<void>;
  logger: Logger;
  /** Pause between rounds when the last round found nothing more to do. */
  intervalMs?: number;
  /** Most documents claimed in one round. */
  batchSize?: number;
  /** How long a claim lasts; after a crash, the entries wait this long before another replica sends them. */
  leaseMs?: number;
  /** How long a document whose publish failed waits before it is tried again. */
  retryDelayMs?: number;
}

export interface OutboxRelay {
  /** Stops the timer and waits for the round in progress. */
  stop(): Promise<void>;
  /** Runs rounds until nothing claimable is left (tests, and a last pass before shutdown). */
  flush(): Promise<void>;
}

interface ClaimedDocument {
  _id: mongo.BSON.ObjectId | string;
  outbox: StoredOutboxEntry[];
}

interface RoundResult {
  claimed: number;
  failed: number;
}

/**
 * Publishes and then clears the events aggregates stored in their `outbox` field. Entries are cleared only
 * after `publish` resolved, and only those that were sent; a crash before the clear re-sends them later under
 * the same event ids, and consumers skip them. Several relays can run: each claims a document with a lease in
 * one atomic update, so two do not send the same entries at once, and a crashed relay's lease lapses. (Atomic
 * across processes on MongoDB; on FerretDB v1 only within one process, see `connectMongo`.)
 */
export function startOutboxRelay<T>(opts: OutboxRelayOptions<T>): OutboxRelay {
  const { logger, publish } = opts;
  // Raw driver calls: FerretDB v1 supports no projection in findAndModify, and the entries must come back
  // exactly as stored so that `$pullAll` can match them.
  const collection = opts.model.collection as unknown as mongo.Collection<ClaimedDocument>;
  const intervalMs = opts.intervalMs ?? 1000;
  const batchSize = opts.batchSize ?? 100;
  const leaseMs = opts.leaseMs ?? 30_000;
  const retryDelayMs = opts.retryDelayMs ?? 5000;
  const owner = randomUUID();
  const log = logger.child({ component: 'outbox-relay', collection: collection.collectionName });

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  // Rounds run one at a time, whether started by the timer or by `flush`.
  let current: Promise<RoundResult> = Promise.resolve({ claimed: 0, failed: 0 });

  async function claim(): Promise<ClaimedDocument | null> {
    const now = new Date();
    return collection.findOneAndUpdate(
      {
        'outbox.id': { $exists: true },
        $or: [{ outboxLeaseUntil: null }, { outboxLeaseUntil: { $lt: now } }],
      },
      { $set: { outboxLeaseUntil: new Date(now.getTime() + leaseMs), outboxLeaseOwner: owner } },
      { returnDocument: 'after' },
    );
  }

  async function clear(doc: ClaimedDocument): Promise<void> {
    // `$pullAll` with the exact entries sent (FerretDB v1 has no `$pull` by condition): entries appended while
    // publishing stay for the next round.
    const pull = { $pullAll: { outbox: doc.outbox } };
    const released = await collection.updateOne(
      { _id: doc._id, outboxLeaseOwner: owner },
      { ...pull, $set: { outboxLeaseUntil: null, outboxLeaseOwner: null } },
    );
    // The lease lapsed and another replica holds the document now: clear the entries, leave its claim alone.
    if (released.matchedCount === 0) await collection.updateOne({ _id: doc._id }, pull);
  }

  async function postpone(doc: ClaimedDocument): Promise<void> {
    await collection.updateOne(
      { _id: doc._id, outboxLeaseOwner: owner },
      { $set: { outboxLeaseUntil: new Date(Date.now() + retryDelayMs) } },
    );
  }

  async function relayDocument(doc: ClaimedDocument): Promise<boolean> {
    try {
      await publish(doc.outbox.map(fromStoredEntry));
    } catch (error) {
      log.warn(
        { err: error, documentId: doc._id, entries: doc.outbox.length },
        'outbox publish failed; will retry',
      );
      await postpone(doc);
      return false;
    }
    await clear(doc);
    log.debug({ documentId: doc._id, entries: doc.outbox.length }, 'outbox entries published');
    return true;
  }

  async function round(): Promise<RoundResult> {
    const claimed: ClaimedDocument[] = [];
    try {
      while (claimed.length < batchSize) {
        const doc = await claim();
        if (doc === null) break;
        claimed.push(doc);
      }
      const results = await Promise.all(claimed.map(relayDocument));
      return { claimed: claimed.length, failed: results.filter((ok) => !ok).length };
    } catch (error) {
      // The database is unreachable or refused an update; claimed documents are retried when their lease lapses.
      log.error({ err: error }, 'outbox relay round failed');
      return { claimed: claimed.length, failed: claimed.length };
    }
  }

  function runRound(): Promise<RoundResult> {
    current = current.then(round);
    return current;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void runRound().then((result) => {
        // A full, healthy batch means more may be waiting: go again at once.
        schedule(result.claimed === batchSize && result.failed === 0 ? 0 : intervalMs);
      });
    }, delayMs);
  }

  schedule(0);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
    async flush() {
      for (;;) {
        const result = await runRound();
        if (result.claimed === 0 || result.failed === result.claimed) return;
      }
    },
  };
}
