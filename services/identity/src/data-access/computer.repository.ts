import type { Connection, QueryFilter } from 'mongoose';
import type { DeviceType, OnboardingStatus } from '@converge/contracts';
import { ConflictError } from '@converge/errors';
import {
  isDuplicateKeyError,
  outboxEntry,
  TenantRepository,
  updateVersioned,
  withOutbox,
  type OutboxEvent,
  type Page,
  type PageRequest,
  type TenantScope,
} from '@converge/store';
import { computerModel, type ComputerDocument } from './computer.schema.ts';

/** Another computer holds the identity key a write wanted: the write is identified again, or refused. */
export class DuplicateIdentityError extends ConflictError {
  readonly identityKey: string;

  constructor(identityKey: string) {
    super('another computer already holds this hardware identity');
    this.identityKey = identityKey;
  }
}

export interface ComputerFilter {
  tenantId?: string;
  namePrefix?: string;
  /** Name prefix, exact serial number or exact hardware UUID. */
  search?: string;
  hardwareUuid?: string;
  onboardingStatus?: OnboardingStatus;
  online?: boolean;
  deviceType?: DeviceType;
  tag?: string;
  deleted: boolean;
  /** Offline since before this instant (stale) when true, the others when false. */
  stale?: { value: boolean; before: Date };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What a save may change: everything but the id, the version (the save increments it) and the outbox. */
type Mutable = Partial<Omit<ComputerDocument, '_id' | 'version' | 'outbox'>>;

export class ComputerRepository extends TenantRepository<ComputerDocument> {
  constructor(conn: Connection) {
    super(computerModel(conn));
  }

  get mongooseModel() {
    return this.model;
  }

  /** A computer by id across tenants, for the consumers (agents carry no caller scope). */
  async findAnyById(id: string): Promise<ComputerDocument | null> {
    return this.model.findById(id).lean<ComputerDocument>();
  }

  /** Stores a new computer and its events in one insert; `DuplicateIdentityError` when its key is taken. */
  async create(doc: Omit<ComputerDocument, 'outbox'>, events: readonly OutboxEvent[]): Promise<void> {
    try {
      await this.model.create({ ...doc, outbox: events.map(outboxEntry) });
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new DuplicateIdentityError(doc.identityKey);
      throw error;
    }
  }

  /**
   * Applies `changes` and appends `events` in one conditional single-document update: `ConflictError` when the
   * computer changed since `expectedVersion`, `DuplicateIdentityError` when its new identity key is taken.
   */
  async save(
    id: string,
    expectedVersion: number,
    changes: Mutable,
    events: readonly OutboxEvent[],
  ): Promise<ComputerDocument> {
    try {
      return await updateVersioned(
        this.model,
        { _id: id },
        expectedVersion,
        withOutbox<ComputerDocument>({ $set: changes }, events),
      );
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new DuplicateIdentityError(changes.identityKey ?? '');
      throw error;
    }
  }

  /** The computer holding an identity key. A collection scan on FerretDB: only used to repair the lookups. */
  async holderOfIdentityKey(identityKey: string): Promise<ComputerDocument | null> {
    return this.model.findOne({ identityKey }).lean<ComputerDocument>();
  }

  /** Live computers of a tenant whose logons include one of `upns`, or that count `personId` among their people. */
  async withPersonOrUpns(tenantId: string, personId: string, upns: readonly string[]) {
    return this.model
      .find({
        tenantId,
        deletedAt: null,
        $or: [{ personIds: personId }, ...upns.map((upn) => ({ 'affinity.recentUpns': upn }))],
      })
      .lean<ComputerDocument[]>();
  }

  async search(
    scope: TenantScope,
    filter: ComputerFilter,
    page: PageRequest,
  ): Promise<Page<ComputerDocument>> {
    const conditions: QueryFilter<ComputerDocument>[] = [
      filter.deleted ? { deletedAt: { $ne: null } } : { deletedAt: null },
    ];
    if (filter.tenantId !== undefined) conditions.push({ tenantId: filter.tenantId });
    if (filter.namePrefix !== undefined) {
      conditions.push({ displayName: { $regex: `^${escapeRegex(filter.namePrefix)}`, $options: 'i' } });
    }
    if (filter.search !== undefined) {
      const or: QueryFilter<ComputerDocument>[] = [
        { displayName: { $regex: `^${escapeRegex(filter.search)}`, $options: 'i' } },
        { serialNumber: filter.search },
      ];
      if (filter.hardwareUuid !== undefined) or.push({ hardwareUuid: filter.hardwareUuid });
      conditions.push({ $or: or });
    }
    if (filter.onboardingStatus !== undefined) conditions.push({ onboardingStatus: filter.onboardingStatus });
    if (filter.online !== undefined) conditions.push({ online: filter.online });
    if (filter.deviceType !== undefined) conditions.push({ deviceType: filter.deviceType });
    if (filter.tag !== undefined) conditions.push({ tags: filter.tag });
    if (filter.stale !== undefined) {
      const { value, before } = filter.stale;
      conditions.push(
        value
          ? { online: false, lastSeenAt: { $lt: before } }
          : { $or: [{ online: true }, { lastSeenAt: { $gte: before } }] },
      );
    }
    return this.list(scope, { ...page, filter: { $and: conditions } });
  }
}
