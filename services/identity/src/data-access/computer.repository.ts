import type { Connection, QueryFilter } from 'mongoose';
import type { DeviceType, OnboardingStatus } from '@converge/contracts';
import {
  rawCollection,
  replaceStatement,
  TenantRepository,
  writeFencedBatch,
  type AggregateCollection,
  type Page,
  type PageRequest,
  type PartitionFence,
  type TenantScope,
} from '@converge/store';
import type { AgentRoute, MachineLookup } from './computer-lookup.ts';
import { computerModel, ownerKeyOf, type ComputerDocument } from './computer.schema.ts';

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

/** What an owner's batch record says: the last batch written, and the computers it wrote. */
export interface BatchRecord {
  _id: string;
  /** The batch's sequence number (also the record's version: one write per batch). */
  version: number;
  computerIds: string[];
}

/** A document of the computers collection: a computer, or a lookup or batch record of the owners. */
export type StoredDocument = ComputerDocument | MachineLookup | AgentRoute | BatchRecord;

/** How an insert of a batch's new documents ended (see `insertBatch`). */
export type BatchInsert =
  | { outcome: 'inserted' }
  /** A newer owner holds the partition: it refused the batch's guard, and nothing was inserted. */
  | { outcome: 'fenced' }
  /** Documents before `index` were inserted, the one at `index` was refused (`code`), the others not tried. */
  | { outcome: 'refused'; index: number; code: number | undefined };

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The computers collection. Besides the computers it holds what their owners write with them in one fenced batch
 * (docs/architecture.md §9): the partitions' fences and batch records, and the lookups (computer-lookup.ts). Reads
 * for technicians see computers only.
 */
export class ComputerRepository extends TenantRepository<ComputerDocument> {
  constructor(conn: Connection) {
    super(computerModel(conn));
  }

  get mongooseModel() {
    return this.model;
  }

  /** The collection the owners write, with their partitions' fences. */
  get collection(): AggregateCollection {
    return rawCollection(this.model);
  }

  protected override scoped(
    scope: TenantScope,
    filter: QueryFilter<ComputerDocument> = {},
  ): QueryFilter<ComputerDocument> {
    // Fences, batch records and lookups have no identity key.
    return super.scoped(scope, { ...filter, identityKey: { $exists: true } });
  }

  /** Documents by id, whatever they are: what an owner loads for a batch (one `$in` of ids, served by the index). */
  async byIds(ids: readonly string[]): Promise<StoredDocument[]> {
    if (ids.length === 0) return [];
    return (await this.collection.find({ _id: { $in: [...ids] } }).toArray()) as StoredDocument[];
  }

  /** The key of a computer's owner (any tenant's), for inputs about it; null when there is no such computer. */
  async ownerKeyOf(computerId: string): Promise<string | null> {
    const doc = await this.model
      .findOne({ _id: computerId, identityKey: { $exists: true } }, { machineKey: 1, handedOverTo: 1 })
      .lean<Pick<ComputerDocument, 'machineKey' | 'handedOverTo'>>();
    return doc === null ? null : ownerKeyOf(doc);
  }

  /**
   * Writes what one batch of an owner changed in existing documents, fenced: one ordered bulk write, each
   * document on condition that it is at the version the owner last saw (see `writeFencedBatch`).
   */
  async writeBatch(
    fence: PartitionFence,
    writes: readonly { doc: StoredDocument; previousVersion: number }[],
    sentSeq: number,
  ): Promise<void> {
    await writeFencedBatch(
      this.collection,
      fence,
      writes.map(({ doc, previousVersion }) => replaceStatement(doc._id, previousVersion, doc)),
      sentSeq,
    );
  }

  /**
   * Inserts a batch's new documents in one request, in order, after the batch's guard (`guardId`): a newer owner
   * inserts the guard of the batch a stale owner may still be writing when it takes the partition over, so that
   * the stale owner's insert is refused before any document, as its fenced write is. On FerretDB an insert costs
   * a quarter of an upsert (one transaction for all of them instead of one each), and new computers are most of
   * what identification writes.
   */
  async insertBatch(guardId: string, docs: readonly StoredDocument[]): Promise<BatchInsert> {
    try {
      await this.collection.insertMany([{ _id: guardId }, ...docs], { ordered: true });
      return { outcome: 'inserted' };
    } catch (error) {
      const [refused] = (error as { writeErrors?: { index: number; code?: number }[] }).writeErrors ?? [];
      if (refused === undefined) throw error;
      if (refused.index === 0) return { outcome: 'fenced' };
      return { outcome: 'refused', index: refused.index - 1, code: refused.code };
    }
  }

  /** Creates a document that must not exist yet (`E11000` when it does). */
  async create(doc: StoredDocument): Promise<void> {
    await this.collection.insertOne(doc);
  }

  /** Inserts guards of batches (see `insertBatch`); those inserted already stay as they are. */
  async guard(guardIds: readonly string[]): Promise<void> {
    try {
      await this.collection.insertMany(
        guardIds.map((_id) => ({ _id })),
        { ordered: false },
      );
    } catch (error) {
      const writeErrors = (error as { writeErrors?: { code?: number }[] }).writeErrors;
      if (!Array.isArray(writeErrors) || writeErrors.some((refused) => refused.code !== 11000)) throw error;
    }
  }

  /** Removes documents by id (guards of batches long done). */
  async removeAll(ids: readonly string[]): Promise<void> {
    await this.collection.deleteMany({ _id: { $in: [...ids] } });
  }

  /**
   * The live computers holding identity keys. A collection scan on FerretDB: only for an owner whose new computer
   * the unique identity key refused, which happens only after a crash left a computer its lookup does not name.
   */
  async holdersOf(identityKeys: readonly string[]): Promise<ComputerDocument[]> {
    return this.model.find({ identityKey: { $in: [...identityKeys] } }).lean<ComputerDocument[]>();
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
