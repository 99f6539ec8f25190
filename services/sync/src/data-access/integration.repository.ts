/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';
import { NotFoundError } from '@converge/errors';
import { TenantRepository } from '@converge/store';

export const integrationKinds = ['entra-id', 'connectwise-manage'] as const;
export type IntegrationKind = (typeof integrationKinds)[number];

/** The non-secret settings; which ones apply depends on the kind (see the OpenAPI document). */
export interface IntegrationSettings {
  /** Entra ID: the customer's directory (tenant) id. */
  directoryTenantId: string | null;
  /** Entra ID: the app registration; ConnectWise: the `clientId` header of a registered integration. */
  clientId: string | null;
  /** ConnectWise: the API root, e.g. `https://na.myconnectwise.net/v4_6_release/apis/3.0`. */
  apiUrl: string | null;
  /** ConnectWise: the company id that prefixes the API member's public key. */
  companyId: string | null;
  publicKey: string | null;
}

export interface SyncRunCounts {
  people: number;
  groups: number;
  companies: number;
  agreements: number;
}

export interface SyncRun {
  status: 'running' | 'succeeded' | 'failed';
  trigger: 'schedule' | 'on-demand';
  startedAt: Date;
  finishedAt: Date | null;
  errors: string[];
  counts: SyncRunCounts;
}

export interface IntegrationDocument {
  _id: string;
  tenantId: string;
  kind: IntegrationKind;
  name: string;
  settings: IntegrationSettings;
  /** The client secret (Entra ID) or private key (ConnectWise), sealed with `INTEGRATION_SECRETS_KEY`. */
  /** `createSecretCipher`'s sealed form, bound to the integration's id. */
  sealedSecret: string;
  /** Microsoft Graph delta links: the next run asks only for what changed since. */
  deltaLinks: { users: string | null; groups: string | null };
  /** The highest lock fencing token a run has written with; an older run's late writes are refused. */
  fencingToken: number;
  lastRun: SyncRun | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface PsaCompanyDocument {
  /** `<integration id>:<company id in the PSA>` */
  _id: string;
  /** The MSP tenant owning the PSA integration. */
  tenantId: string;
  integrationId: string;
  externalId: string;
  name: string;
  suggestedTenantId: string | null;
  /** The Converge tenant an MSP admin confirmed this company to be; agreements sync only for mapped ones. */
  mappedTenantId: string | null;
  seenAt: Date;
}

const nullableString = { type: String, default: null };

const integrationSchema = new Schema<IntegrationDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    kind: { type: String, required: true },
    name: { type: String, required: true },
    settings: {
      directoryTenantId: nullableString,
      clientId: nullableString,
      apiUrl: nullableString,
      companyId: nullableString,
      publicKey: nullableString,
    },
    sealedSecret: { type: String, required: true },
    deltaLinks: { users: nullableString, groups: nullableString },
    fencingToken: { type: Number, default: 0 },
    lastRun: {
      type: new Schema(
        {
          status: String,
          trigger: String,
          startedAt: Date,
          finishedAt: Date,
          errors: [String],
          counts: { people: Number, groups: Number, companies: Number, agreements: Number },
        },
        { _id: false },
      ),
      default: null,
    },
    version: { type: Number, required: true, default: 1 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'integrations' },
);
// The integrations list of a tenant; the scheduler reads them all.
integrationSchema.index({ tenantId: 1, kind: 1 });

const psaCompanySchema = new Schema<PsaCompanyDocument>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    integrationId: { type: String, required: true },
    externalId: { type: String, required: true },
    name: { type: String, required: true },
    suggestedTenantId: nullableString,
    mappedTenantId: nullableString,
    seenAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'psa_companies' },
);
// GET /integrations/{id}/companies lists one integration's companies in name order.
psaCompanySchema.index({ integrationId: 1, name: 1 });

export class IntegrationRepository extends TenantRepository<IntegrationDocument> {
  /** Every integration, for the scheduler: a handful per tenant, read once an interval. */
  async all(): Promise<IntegrationDocument[]> {
    return this.model.find().lean<IntegrationDocument[]>();
  }

  /**
   * Writes a run's results only while no newer run has written (the lock's fencing token): a run that lost
   * its lock (paused past the lock's TTL) cannot overwrite the delta links of the run that took over.
   */
  async saveRun(
    id: string,
    fencingToken: number,
    fields: Partial<Pick<IntegrationDocument, 'deltaLinks' | 'lastRun'>>,
  ): Promise<boolean> {
    const result = await this.model.updateOne(
      { _id: id, fencingToken: { $lte: fencingToken } },
      { $set: { ...fields, fencingToken }, $inc: { version: 1 } },
    );
    return result.matchedCount === 1;
  }
}

export class PsaCompanyRepository extends TenantRepository<PsaCompanyDocument> {
  async upsertSeen(company: Omit<PsaCompanyDocument, 'mappedTenantId'>): Promise<PsaCompanyDocument> {
    const { _id, ...fields } = company;
    const saved = await this.model
      .findOneAndUpdate(
        { _id },
        { $set: fields, $setOnInsert: { mappedTenantId: null } },
        { upsert: true, returnDocument: 'after' },
      )
      .lean<PsaCompanyDocument>();
    return saved;
  }

  async map(id: string, tenantId: string | null): Promise<PsaCompanyDocument> {
    const updated = await this.model
      .findOneAndUpdate({ _id: id }, { $set: { mappedTenantId: tenantId } }, { returnDocument: 'after' })
      .lean<PsaCompanyDocument>();
    if (updated === null) throw new NotFoundError('company not found');
    return updated;
  }

  async mapped(integrationId: string): Promise<PsaCompanyDocument[]> {
    return this.model.find({ integrationId, mappedTenantId: { $ne: null } }).lean<PsaCompanyDocument[]>();
  }
}

export function integrationModels(conn: Connection): {
  integrations: Model<IntegrationDocument>;
  psaCompanies: Model<PsaCompanyDocument>;
} {
  return {
    integrations: conn.model<IntegrationDocument>('Integration', integrationSchema),
    psaCompanies: conn.model<PsaCompanyDocument>('PsaCompany', psaCompanySchema),
  };
}
