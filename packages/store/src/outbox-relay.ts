import { randomUUID } from 'node:crypto';
import type { Logger } from '@converge/telemetry';
import type { Model, mongo } from 'mongoose';
import { watchOutbox } from './outbox-hints.ts';
import { fromStoredEntry, type OutboxEntry, type StoredOutboxEntry } from './outbox.ts';
import { rawCollection, updateRaw } from './single-document.ts';

export interface OutboxRelayOptions<T> {
  /** The aggregate's model; its schema uses `outboxPlugin`. */
  model: Model<T>;
  /** Sends the entries and resolves once the broker acknowledged all of them. */
  publish: (entries: OutboxEntry[]) => Promise<void>;
  logger: Logger;
  /**
   * How often the relay searches the collection for entries it was not told about: those of a process that
   * crashed or of another replica whose claim lapsed, and writes outside the `outboxPlugin` middleware. Writes
   * of this process through the model reach the relay at once (see `outboxPlugin`).
   */
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
  /** Runs rounds, searching the collection each time, until nothing claimable is left (tests, and shutdown). */
  flush(): Promise<void>;
}

type DocumentId = mongo.BSON.ObjectId | string;

interface ClaimedDocument {
  _id: DocumentId;
  outbox: StoredOutboxEntry[];
}

/** The relay never needs a document back as updated: the one read before the write says enough. */
const before = { upsert: false, returnDocument: 'before' } as const;

interface RoundResult {
  claimed: number;
  failed: number;
}

/**
 * Publishes and then clears the events aggregates stored in their `outbox` field. Entries are cleared only
 * after `publish` resolved, and only those that were sent; a crash before the clear re-sends them later under
 * the same event ids, and consumers skip them. Several relays can run: each claims a document with a lease in
 * one atomic update, so two do not send the same entries at once, and a crashed relay's lease lapses.
 *
 * Documents are claimed by `_id` (the `_id` index serves the claim whatever its other conditions): the ones this
 * process's writes hinted at, at once, and every `intervalMs` the ones a search of the collection finds.
 */
export function startOutboxRelay<T>(opts: OutboxRelayOptions<T>): OutboxRelay {
  const { logger, publish } = opts;
  // Raw driver calls: FerretDB v1 supports no projection in findAndModify, and the entries must come back
  // exactly as stored so that `$pullAll` can match them.
  const collection = rawCollection<ClaimedDocument>(opts.model);
  const intervalMs = opts.intervalMs ?? 30_000;
  const batchSize = opts.batchSize ?? 100;
  const leaseMs = opts.leaseMs ?? 30_000;
  const retryDelayMs = opts.retryDelayMs ?? 5000;
  const owner = randomUUID();
  const log = logger.child({ component: 'outbox-relay', collection: collection.collectionName });

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let nextSearchAt = 0;
  /** Documents to claim by `_id`, by id as text, with when they are due. */
  const hints = new Map<string, { id: DocumentId; dueAt: number }>();
  // Rounds run one at a time, whether started by the timer or by `flush`.
  let current: Promise<RoundResult> = Promise.resolve({ claimed: 0, failed: 0 });

  function hint(id: DocumentId, dueAt: number): void {
    const key = String(id);
    const known = hints.get(key);
    if (known === undefined || known.dueAt > dueAt) hints.set(key, { id, dueAt });
    if (dueAt <= Date.now() && !running) schedule(0);
  }

  const unwatch = watchOutbox(collection, (id) => {
    hint(id as DocumentId, Date.now());
  });

  function dueHints(now: number): DocumentId[] {
    const due: DocumentId[] = [];
    for (const [key, { id, dueAt }] of hints) {
      if (due.length >= batchSize) break;
      if (dueAt > now) continue;
      hints.delete(key);
      due.push(id);
    }
    return due;
  }

  /** Documents with entries and no live claim, found by searching the collection. */
  async function search(now: Date): Promise<DocumentId[]> {
    const found = await collection
      .find(
        {
          'outbox.id': { $exists: true },
          $or: [{ outboxLeaseUntil: null }, { outboxLeaseUntil: { $lt: now } }],
        },
        { projection: { _id: 1 }, limit: batchSize },
      )
      .toArray();
    return found.map((doc) => doc._id);
  }

  /** The claimed document as it was before the claim: its entries are what the claim covers. */
  async function claim(id: DocumentId): Promise<ClaimedDocument | null> {
    const now = new Date();
    return updateRaw(
      collection,
      {
        _id: id,
        'outbox.id': { $exists: true },
        $or: [{ outboxLeaseUntil: null }, { outboxLeaseUntil: { $lt: now } }],
      },
      { $set: { outboxLeaseUntil: new Date(now.getTime() + leaseMs), outboxLeaseOwner: owner } },
      before,
    );
  }

  async function clear(doc: ClaimedDocument): Promise<void> {
    // `$pullAll` with the exact entries sent (FerretDB v1 has no `$pull` by condition): entries appended while
    // publishing stay for the next round.
    const pull = { $pullAll: { outbox: doc.outbox } };
    const release = { ...pull, $set: { outboxLeaseUntil: null, outboxLeaseOwner: null } };
    // The lease lapsed and another replica holds the document now: clear the entries, leave its claim alone.
    const previous =
      (await updateRaw(collection, { _id: doc._id, outboxLeaseOwner: owner }, release, before)) ??
      (await updateRaw(collection, { _id: doc._id }, pull, before));
    // Entries appended while publishing: relay them next, without waiting for a search.
    const sent = new Set(doc.outbox.map((entry) => entry.id));
    if (previous?.outbox.some((entry) => !sent.has(entry.id)) === true) hint(doc._id, Date.now());
  }

  async function postpone(doc: ClaimedDocument): Promise<void> {
    const dueAt = Date.now() + retryDelayMs;
    await updateRaw(
      collection,
      { _id: doc._id, outboxLeaseOwner: owner },
      { $set: { outboxLeaseUntil: new Date(dueAt) } },
      before,
    );
    hint(doc._id, dueAt);
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

  async function round(searchAll: boolean): Promise<RoundResult> {
    const claimed: ClaimedDocument[] = [];
    const now = Date.now();
    const ids = dueHints(now);
    try {
      if (searchAll || now >= nextSearchAt) {
        const found = await search(new Date(now));
        // A full batch means more may be waiting: search again in the next round.
        nextSearchAt = found.length === batchSize ? now : now + intervalMs;
        const hinted = new Set(ids.map(String));
        ids.push(...found.filter((id) => !hinted.has(String(id))));
      }
      for (const id of ids) {
        const doc = await claim(id);
        if (doc !== null) claimed.push(doc);
      }
      const results = await Promise.all(claimed.map(relayDocument));
      return { claimed: claimed.length, failed: results.filter((ok) => !ok).length };
    } catch (error) {
      // The database is unreachable or refused an update: the hints are tried again after the retry delay, and
      // claimed documents when their lease lapses.
      log.error({ err: error }, 'outbox relay round failed');
      for (const id of ids) hint(id, Date.now() + retryDelayMs);
      return { claimed: claimed.length, failed: claimed.length };
    }
  }

  function runRound(searchAll: boolean): Promise<RoundResult> {
    current = current.then(() => round(searchAll));
    return current;
  }

  /** The wait until the next round: now while hints are due, else until the next hint or search is. */
  function nextDelay(): number {
    let next = nextSearchAt;
    for (const { dueAt } of hints.values()) next = Math.min(next, dueAt);
    return Math.max(0, next - Date.now());
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = true;
      void runRound(false).then(() => {
        running = false;
        schedule(nextDelay());
      });
    }, delayMs);
  }

  schedule(0);

  return {
    async stop() {
      stopped = true;
      unwatch();
      clearTimeout(timer);
      await current;
    },
    async flush() {
      for (;;) {
        const result = await runRound(true);
        if (result.claimed === 0 || result.failed === result.claimed) return;
      }
    },
  };
}
