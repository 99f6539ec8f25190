/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Query, type UpdateQuery } from 'mongoose';
import { hintOutbox } from './outbox-hints.ts';
import type { OutboxFields, StoredOutboxEntry } from './outbox.ts';

const outboxEntrySchema = new Schema<StoredOutboxEntry>(
  {
    id: { type: String, required: true },
    type: { type: String, required: true },
    topic: { type: String, required: true },
    subject: { type: String, required: true },
    tenantId: { type: String },
    data: { type: String, required: true },
    time: { type: Date, required: true },
  },
  { _id: false },
);

function pushesOutbox(update: unknown): boolean {
  const push = (update as UpdateQuery<OutboxFields> | null)?.$push;
  return push?.outbox !== undefined;
}

/** The plain `_id` a single-document update names, if it does. */
function filterId(query: Query<unknown, unknown>): unknown {
  const id = (query.getFilter() as { _id?: unknown })._id;
  return typeof id === 'object' && id !== null && Object.keys(id).some((key) => key.startsWith('$'))
    ? undefined
    : id;
}

/**
 * Adds the outbox fields (`OutboxFields`) to an aggregate's schema, and middleware that hints the relays of
 * this process (`startOutboxRelay`) at each document a write just gave entries, so that they claim it by `_id`
 * instead of searching the collection for it.
 */
export function outboxPlugin(schema: Schema): void {
  schema.add({
    outbox: { type: [outboxEntrySchema], default: [] },
    outboxLeaseUntil: { type: Date, default: null },
    outboxLeaseOwner: { type: String, default: null },
  });
  // The relay looks for documents with pending entries; the outbox is empty almost always, so a sparse index
  // holds only the few documents the relay has to visit.
  schema.index({ 'outbox.id': 1 }, { sparse: true });

  schema.post('save', function (doc: unknown) {
    const saved = doc as OutboxFields & { _id: unknown; collection: object };
    if (saved.outbox.length > 0) hintOutbox(saved.collection, saved._id);
  });
  schema.post('insertMany', function (docs: unknown) {
    for (const doc of docs as (OutboxFields & { _id: unknown })[]) {
      if (doc.outbox.length > 0) hintOutbox(this.collection, doc._id);
    }
  });
  schema.post('findOneAndUpdate', function (doc: unknown) {
    const updated = doc as { _id: unknown } | null;
    if (updated !== null && pushesOutbox(this.getUpdate())) hintOutbox(this.model.collection, updated._id);
  });
  schema.post('updateOne', { document: false, query: true }, function (result: unknown) {
    if (!pushesOutbox(this.getUpdate())) return;
    const { matchedCount = 0, upsertedId } = result as { matchedCount?: number; upsertedId?: unknown };
    const id = upsertedId ?? (matchedCount > 0 ? filterId(this) : undefined);
    if (id !== undefined && id !== null) hintOutbox(this.model.collection, id);
  });
}
