import { allTenants, type TenantScope } from '@converge/store';
import { Schema, type Connection, type Model } from 'mongoose';
import type { Computer, Directory, EntraGroup, Person, PsaAgreement, Tenant } from '../domain/types.ts';

// This service's read models of other services' aggregates: computers (identity) and the directory (sync).
// Each row keeps the aggregate's `version`; an event is applied only when it is newer, in one conditional
// write, so a redelivered or reordered event changes nothing. A deletion leaves a tombstone row (`deleted`)
// holding its version, so an older upsert arriving late cannot bring the row back.

interface Row {
  _id: string;
  version: number;
  deleted: boolean;
}

type ComputerRow = Row & Omit<Computer, 'id'>;
type TenantRow = Row & Omit<Tenant, 'id'>;
type PersonRow = Row & Omit<Person, 'id'>;
type GroupRow = Row & Omit<EntraGroup, 'id'>;
type AgreementRow = Row & Omit<PsaAgreement, 'id'>;

const row = {
  _id: { type: String, required: true },
  version: { type: Number, required: true },
  deleted: { type: Boolean, required: true },
};

function projectionSchema<T extends Row>(fields: Record<string, unknown>): Schema<T> {
  return new Schema<T>({ ...row, ...fields }, { versionKey: false });
}

const computerSchema = projectionSchema<ComputerRow>({
  tenantId: { type: String },
  deviceType: { type: String },
  isPrimaryDomainController: { type: Boolean },
  tags: { type: [String] },
  primaryPersonId: { type: String, default: null },
  personIds: { type: [String] },
  excludedFromMaintenance: { type: Boolean },
});
// A tenant's computers: the reverse query narrows its scan to them for a tenant-scoped deployment.
computerSchema.index({ tenantId: 1 });

const tenantSchema = projectionSchema<TenantRow>({
  parentTenantId: { type: String, default: null },
  tags: { type: [String] },
  excludedFromCrossTenantDeployments: { type: Boolean },
});
const personSchema = projectionSchema<PersonRow>({ tenantId: String, tags: { type: [String] } });
const groupSchema = projectionSchema<GroupRow>({
  tenantId: String,
  memberPersonIds: { type: [String] },
  memberGroupIds: { type: [String] },
});
const agreementSchema = projectionSchema<AgreementRow>({
  tenantId: String,
  agreementTypeId: String,
  startsAt: Number,
  endsAt: { type: Number, default: null },
  additions: { type: Schema.Types.Mixed, default: [] },
});

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/** Writes `fields` at `version` unless the row already holds that version or a newer one; true when applied. */
async function applyIfNewer<T extends Row>(
  model: Model<T>,
  id: string,
  version: number,
  fields: Omit<T, '_id' | 'version'>,
): Promise<boolean> {
  try {
    const result = await model.updateOne(
      { _id: id, version: { $lt: version } },
      { $set: { ...fields, version } },
      { upsert: true },
    );
    return result.modifiedCount + result.upsertedCount > 0;
  } catch (error) {
    // The row exists at this version or newer: the upsert tried to insert a second row with its id.
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

function withoutRow<T extends Row>(doc: T): Omit<T, '_id' | 'version' | 'deleted'> & { id: string } {
  const { _id, version: _version, deleted: _deleted, ...fields } = doc;
  return { id: _id, ...fields };
}

export class ProjectionRepository {
  private readonly computers: Model<ComputerRow>;
  private readonly tenants: Model<TenantRow>;
  private readonly people: Model<PersonRow>;
  private readonly groups: Model<GroupRow>;
  private readonly agreements: Model<AgreementRow>;

  constructor(conn: Connection) {
    this.computers = conn.model<ComputerRow>('ComputerProjection', computerSchema, 'computers');
    this.tenants = conn.model<TenantRow>('TenantProjection', tenantSchema, 'tenants');
    this.people = conn.model<PersonRow>('PersonProjection', personSchema, 'people');
    this.groups = conn.model<GroupRow>('GroupProjection', groupSchema, 'groups');
    this.agreements = conn.model<AgreementRow>('PsaAgreementProjection', agreementSchema, 'psaAgreements');
  }

  async computerVersion(id: string): Promise<number | undefined> {
    const doc = await this.computers.findById(id, { version: 1 }).lean<{ version: number }>();
    return doc?.version;
  }

  applyComputer(computer: Computer, version: number, deleted: boolean): Promise<boolean> {
    const { id, ...fields } = computer;
    return applyIfNewer(this.computers, id, version, { ...fields, deleted });
  }

  applyTenant(tenant: Tenant, version: number, deleted: boolean): Promise<boolean> {
    const { id, ...fields } = tenant;
    return applyIfNewer(this.tenants, id, version, { ...fields, deleted });
  }

  applyPerson(person: Person, version: number, deleted: boolean): Promise<boolean> {
    const { id, ...fields } = person;
    return applyIfNewer(this.people, id, version, { ...fields, deleted });
  }

  applyGroup(group: EntraGroup, version: number, deleted: boolean): Promise<boolean> {
    const { id, ...fields } = group;
    return applyIfNewer(this.groups, id, version, { ...fields, deleted });
  }

  applyAgreement(agreement: PsaAgreement, version: number, deleted: boolean): Promise<boolean> {
    const { id, ...fields } = agreement;
    return applyIfNewer(this.agreements, id, version, { ...fields, deleted });
  }

  /** A live computer inside the scope, or null. */
  async findComputer(scope: TenantScope, id: string): Promise<Computer | null> {
    const filter: Record<string, unknown> = { _id: id, deleted: false };
    if (scope !== allTenants) filter.tenantId = typeof scope === 'string' ? scope : { $in: scope };
    const doc = await this.computers.findOne(filter).lean<ComputerRow>();
    return doc === null ? null : withoutRow(doc);
  }

  /** Up to `limit` live computers after `afterId` in id order, optionally only those of some tenants. */
  async computersAfter(afterId: string | null, limit: number, tenantIds?: readonly string[]) {
    const filter: Record<string, unknown> = { deleted: false };
    if (afterId !== null) filter._id = { $gt: afterId };
    if (tenantIds) filter.tenantId = { $in: tenantIds };
    const docs = await this.computers.find(filter).sort({ _id: 1 }).limit(limit).lean<ComputerRow[]>();
    return docs.map(withoutRow);
  }

  async findPerson(id: string): Promise<Person | null> {
    const doc = await this.people.findOne({ _id: id, deleted: false }).lean<PersonRow>();
    return doc === null ? null : withoutRow(doc);
  }

  async findGroup(id: string): Promise<EntraGroup | null> {
    const doc = await this.groups.findOne({ _id: id, deleted: false }).lean<GroupRow>();
    return doc === null ? null : withoutRow(doc);
  }

  async directory(): Promise<Directory> {
    const live = { deleted: false };
    const [tenants, people, entraGroups, psaAgreements] = await Promise.all([
      this.tenants.find(live).lean<TenantRow[]>(),
      this.people.find(live).lean<PersonRow[]>(),
      this.groups.find(live).lean<GroupRow[]>(),
      this.agreements.find(live).lean<AgreementRow[]>(),
    ]);
    return {
      tenants: tenants.map(withoutRow),
      people: people.map(withoutRow),
      entraGroups: entraGroups.map(withoutRow),
      psaAgreements: psaAgreements.map(withoutRow),
    };
  }
}
