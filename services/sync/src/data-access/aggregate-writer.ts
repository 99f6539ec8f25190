import {
  asTenantId,
  outboxEntry,
  TenantRepository,
  withOutbox,
  type OutboxEvent,
  type OutboxFields,
} from '@converge/store';

/** A versioned directory aggregate with its outbox: every write carries the event that announces it. */
export interface Aggregate extends OutboxFields {
  _id: string;
  tenantId: string;
  version: number;
  updatedAt: Date;
  deletedAt: Date | null;
}

type Fields<T extends Aggregate> = Omit<T, keyof OutboxFields | 'version' | 'updatedAt' | 'deletedAt'>;
/** What a change may set: anything but the identity, the version and the outbox (a sync may undelete). */
type Changes<T extends Aggregate> = Partial<
  Omit<T, keyof OutboxFields | '_id' | 'tenantId' | 'version' | 'updatedAt'>
>;

/**
 * Writes an aggregate and the event describing its new state in one single-document update (the outbox,
 * ARCHITECTURE.md §2), so an event is published if and only if its change was stored. The event is built from
 * the state as it will be after the write, version included.
 */
export class AggregateWriter<T extends Aggregate> extends TenantRepository<T> {
  async create(fields: Fields<T>, now: Date, eventOf: (state: T) => OutboxEvent): Promise<T> {
    const state = { ...fields, version: 1, updatedAt: now, deletedAt: null, outbox: [] } as unknown as T;
    const { tenantId: _tenantId, ...rest } = { ...state, outbox: [outboxEntry(eventOf(state))] };
    return this.insert(asTenantId(fields.tenantId), rest);
  }

  /** Applies `changes` to `current` (at its version): `ConflictError` when someone else changed it first. */
  async change(current: T, changes: Changes<T>, now: Date, eventOf: (state: T) => OutboxEvent): Promise<T> {
    const next = { ...current, ...changes, version: current.version + 1, updatedAt: now };
    const update = withOutbox<T>({ $set: { ...changes, updatedAt: now } }, [eventOf(next)]);
    return this.update(asTenantId(current.tenantId), current._id, current.version, update);
  }

  /** Soft-deletes: the document stays to carry its deletion event and to keep its version counting. */
  async remove(current: T, now: Date, eventOf: (state: T, at: Date) => OutboxEvent): Promise<T> {
    const update = withOutbox<T>({ $set: { deletedAt: now, updatedAt: now } }, [eventOf(current, now)]);
    return this.update(asTenantId(current.tenantId), current._id, current.version, update);
  }
}
