import { randomUUID } from 'node:crypto';
import type { UpdateQuery } from 'mongoose';

/** An event waiting in its aggregate's document to be published by the outbox relay. */
export interface OutboxEntry {
  /** The event id (uuid), published as `ce_id` so consumers can drop a re-publication. */
  id: string;
  type: string;
  topic: string;
  /** The aggregate id: the Kafka key. */
  subject: string;
  tenantId?: string;
  data: unknown;
  time: Date;
}

export interface OutboxEvent {
  type: string;
  topic: string;
  subject: string;
  tenantId?: string;
  data: unknown;
  /** Defaults to a new uuid. */
  id?: string;
  /** Defaults to now. */
  time?: Date;
}

/**
 * An entry as stored. The payload is kept as JSON text: FerretDB v1 rejects keys containing `.` or starting with
 * `$` and nested arrays, which an event payload may well hold (file names as keys, matrices), and Kafka gets
 * JSON anyway.
 */
export interface StoredOutboxEntry {
  id: string;
  type: string;
  topic: string;
  subject: string;
  tenantId?: string;
  data: string;
  time: Date;
}

/** The fields the outbox adds to an aggregate document. */
export interface OutboxFields {
  outbox: StoredOutboxEntry[];
  /** Until when a relay replica holds the document's pending entries; a crashed replica's claim lapses. */
  outboxLeaseUntil?: Date | null;
  outboxLeaseOwner?: string | null;
}

/** Builds the stored form of an event. */
export function outboxEntry(event: OutboxEvent): StoredOutboxEntry {
  if (event.data === undefined) throw new TypeError(`outbox event ${event.type} has no payload`);
  const entry: StoredOutboxEntry = {
    id: event.id ?? randomUUID(),
    type: event.type,
    topic: event.topic,
    subject: event.subject,
    data: JSON.stringify(event.data),
    time: event.time ?? new Date(),
  };
  if (event.tenantId !== undefined) entry.tenantId = event.tenantId;
  return entry;
}

/**
 * Adds events to a state-changing update so that both land in one atomic single-document write: the event is
 * stored if and only if the change is (ARCHITECTURE.md §2).
 */
export function withOutbox<T>(
  update: UpdateQuery<NoInfer<T>>,
  events: readonly OutboxEvent[],
): UpdateQuery<T> {
  const pushes = (update.$push ?? {}) as Record<string, unknown>;
  return { ...update, $push: { ...pushes, outbox: { $each: events.map(outboxEntry) } } };
}

/** The published form of a stored entry. */
export function fromStoredEntry(stored: StoredOutboxEntry): OutboxEntry {
  const entry: OutboxEntry = {
    id: stored.id,
    type: stored.type,
    topic: stored.topic,
    subject: stored.subject,
    data: JSON.parse(stored.data) as unknown,
    time: stored.time,
  };
  if (typeof stored.tenantId === 'string') entry.tenantId = stored.tenantId;
  return entry;
}
