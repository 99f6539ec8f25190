/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';
import { deleteOneDocument } from '@converge/store';
import { upsertIfNewer } from './upsert-if-newer.ts';

/**
 * What identity needs from the directory (the sync service's events): each tenant's onboarding setting, and
 * people by UPN for user affinity. Rows carry the aggregate's version and are tombstoned on deletion, so an
 * old upsert delivered late cannot bring a deleted row back.
 */
interface TenantSettingsDocument {
  _id: string;
  version: number;
  onboardingEnabled: boolean;
  deleted: boolean;
}

interface PersonDocument {
  _id: string;
  tenantId: string;
  version: number;
  /** Lower case; null for a person without one or deleted. */
  upn: string | null;
  deleted: boolean;
}

/** `_id` = `<tenant id>/<lower-case UPN>`: affinity reads the people of a batch's computers in one `$in` of ids. */
interface PersonUpnDocument {
  _id: string;
  personId: string;
}

const tenantSettingsSchema = new Schema<TenantSettingsDocument>(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    onboardingEnabled: { type: Boolean, required: true },
    deleted: { type: Boolean, default: false },
  },
  { versionKey: false },
);

const personSchema = new Schema<PersonDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    version: { type: Number, required: true },
    upn: { type: String, default: null },
    deleted: { type: Boolean, default: false },
  },
  { versionKey: false },
);

const personUpnSchema = new Schema<PersonUpnDocument>(
  { _id: { type: String, required: true }, personId: { type: String, required: true } },
  { versionKey: false },
);

const upnKey = (tenantId: string, upn: string) => `${tenantId}/${upn}`;

export interface PersonChange {
  personId: string;
  tenantId: string;
  /** UPNs whose computers may have a different primary person now: the old and the new one. */
  affectedUpns: string[];
}

export class DirectoryRepository {
  private readonly tenants: Model<TenantSettingsDocument>;
  private readonly people: Model<PersonDocument>;
  private readonly upns: Model<PersonUpnDocument>;

  constructor(conn: Connection) {
    this.tenants = conn.model<TenantSettingsDocument>(
      'TenantSettings',
      tenantSettingsSchema,
      'tenantsettings',
    );
    this.people = conn.model<PersonDocument>('Person', personSchema, 'people');
    this.upns = conn.model<PersonUpnDocument>('PersonUpn', personUpnSchema, 'personupns');
  }

  /**
   * The tenants (among `tenantIds`) whose onboarding is off; a tenant not synced yet has onboarding on, the safe
   * side for a new machine.
   */
  async onboardingDisabledAmong(tenantIds: readonly string[]): Promise<Set<string>> {
    if (tenantIds.length === 0) return new Set();
    const rows = await this.tenants
      .find({ _id: { $in: [...new Set(tenantIds)] } })
      .lean<TenantSettingsDocument[]>();
    return new Set(rows.filter((row) => !row.deleted && !row.onboardingEnabled).map((row) => row._id));
  }

  async upsertTenant(tenantId: string, version: number, onboardingEnabled: boolean): Promise<boolean> {
    return upsertIfNewer(this.tenants, tenantId, 'version', version, { onboardingEnabled, deleted: false });
  }

  async deleteTenant(tenantId: string, version: number): Promise<boolean> {
    return upsertIfNewer(this.tenants, tenantId, 'version', version, {
      onboardingEnabled: true,
      deleted: true,
    });
  }

  /** Stores the person if the event is newer; returns what changed for affinity, or null when nothing did. */
  async upsertPerson(
    person: { personId: string; tenantId: string; version: number; upn: string | null },
    deleted: boolean,
  ): Promise<PersonChange | null> {
    const before = await this.people.findById(person.personId).lean<PersonDocument>();
    const upn = deleted ? null : (person.upn?.trim().toLowerCase() ?? null);
    const applied = await upsertIfNewer(this.people, person.personId, 'version', person.version, {
      tenantId: person.tenantId,
      upn,
      deleted,
    });
    if (!applied) return null;
    const oldUpn = before?.upn ?? null;
    if (before !== null && oldUpn !== null && (oldUpn !== upn || before.tenantId !== person.tenantId)) {
      await deleteOneDocument(this.upns, { _id: upnKey(before.tenantId, oldUpn), personId: person.personId });
    }
    if (upn !== null) {
      await this.upns.updateOne(
        { _id: upnKey(person.tenantId, upn) },
        { $set: { personId: person.personId } },
        { upsert: true },
      );
    }
    return {
      personId: person.personId,
      tenantId: person.tenantId,
      affectedUpns: [...new Set([oldUpn, upn].filter((value) => value !== null))],
    };
  }

  /** People by tenant and lower-case UPN, for the pairs given, in one request: `personIdOf` reads the answer. */
  async peopleByUpn(pairs: readonly { tenantId: string; upn: string }[]): Promise<PeopleByUpn> {
    const keys = [...new Set(pairs.map((pair) => upnKey(pair.tenantId, pair.upn)))];
    const rows =
      keys.length === 0 ? [] : await this.upns.find({ _id: { $in: keys } }).lean<PersonUpnDocument[]>();
    return new Map(rows.map((row) => [row._id, row.personId]));
  }
}

/** People found by `peopleByUpn`, by `<tenant id>/<upn>`. */
export type PeopleByUpn = ReadonlyMap<string, string>;

/** The person of a tenant with a lower-case UPN, among those `peopleByUpn` found. */
export function personIdOf(people: PeopleByUpn, tenantId: string, upn: string): string | undefined {
  return people.get(upnKey(tenantId, upn));
}
