/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema } from 'mongoose';
import type { StoredOutboxEntry } from './outbox.ts';

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

/** Adds the outbox fields (`OutboxFields`) to an aggregate's schema. */
export function outboxPlugin(schema: Schema): void {
  schema.add({
    outbox: { type: [outboxEntrySchema], default: [] },
    outboxLeaseUntil: { type: Date, default: null },
    outboxLeaseOwner: { type: String, default: null },
  });
  // The relay looks for documents with pending entries; the outbox is empty almost always, so a sparse index
  // holds only the few documents the relay has to visit.
  schema.index({ 'outbox.id': 1 }, { sparse: true });
}
