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

/** `_id` = `<tenant id>/<lower-case UPN>`: affinity reads one person per UPN by `_id` (see ComputerLookupRepository). */
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

  /** A tenant's onboarding setting; a tenant not synced yet has onboarding on, the safe side for a new machine. */
  async onboardingEnabled(tenantId: string): Promise<boolean> {
    const settings = await this.tenants.findById(tenantId).lean<TenantSettingsDocument>();
    return settings === null || settings.deleted || settings.onboardingEnabled;
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

  /** People of a tenant by lower-case UPN, for the UPNs given (one `_id` read each, at most ten). */
  async personIdsByUpn(tenantId: string, upns: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const upn of new Set(upns)) {
      const row = await this.upns.findById(upnKey(tenantId, upn)).lean<PersonUpnDocument>();
      if (row !== null) found.set(upn, row.personId);
    }
    return found;
  }
}
