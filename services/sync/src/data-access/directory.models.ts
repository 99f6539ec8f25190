/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';
import { outboxPlugin, type OutboxFields } from '@converge/store';
import type {
  GroupState,
  PersonState,
  PsaAgreementState,
  TenantState,
} from '../domain/directory-snapshots.ts';

/** Directory aggregates are soft-deleted: the document keeps the deletion event in its outbox until it is sent. */
interface Deletable {
  deletedAt: Date | null;
}

export interface TenantDocument extends TenantState, Deletable, OutboxFields {
  /** A tenant is its own tenant, so the scoped repository base applies to tenants too. */
  tenantId: string;
}

export interface PersonDocument extends PersonState, Deletable, OutboxFields {}
export interface GroupDocument extends GroupState, Deletable, OutboxFields {}
export interface PsaAgreementDocument extends PsaAgreementState, Deletable, OutboxFields {
  integrationId: string;
}

const tags = { type: [String], default: [] };
const dateRange = { startsAt: { type: Date, required: true }, endsAt: { type: Date, default: null } };
const common = {
  _id: { type: String, required: true },
  tenantId: { type: String, required: true },
  version: { type: Number, required: true, default: 1 },
  updatedAt: { type: Date, required: true },
  deletedAt: { type: Date, default: null },
};

const tenantSchema = new Schema<TenantDocument>(
  {
    ...common,
    name: { type: String, required: true },
    slug: { type: String, required: true },
    active: { type: Boolean, required: true },
    parentTenantId: { type: String, default: null },
    isMsp: { type: Boolean, required: true },
    tags,
    settings: {
      onboardingEnabled: { type: Boolean, required: true },
      timeZone: { type: String, required: true },
      businessHours: {
        type: new Schema({ days: [String], start: String, end: String }, { _id: false }),
        default: null,
      },
      excludedFromCrossTenantDeployments: { type: Boolean, required: true },
    },
  },
  { versionKey: false, collection: 'tenants' },
);
// Slugs name tenants in URLs and scripts: two live tenants must never share one.
tenantSchema.index({ slug: 1 }, { unique: true });
outboxPlugin(tenantSchema);

const personSchema = new Schema<PersonDocument>(
  {
    ...common,
    displayName: { type: String, required: true },
    upn: { type: String, default: null },
    email: { type: String, default: null },
    entraObjectId: { type: String, default: null },
    onPremisesSid: { type: String, default: null },
    tags,
  },
  { versionKey: false, collection: 'people' },
);
// The people list of a tenant, in name order (the default sort of GET /people).
personSchema.index({ tenantId: 1, displayName: 1 });
// Access requests and approvals find a tenant's person by sign-in name.
personSchema.index({ tenantId: 1, upn: 1 });
outboxPlugin(personSchema);

const groupSchema = new Schema<GroupDocument>(
  {
    ...common,
    displayName: { type: String, required: true },
    entraObjectId: { type: String, default: null },
    memberPersonIds: { type: [String], default: [] },
    memberGroupIds: { type: [String], default: [] },
  },
  { versionKey: false, collection: 'groups' },
);
// The groups list of a tenant, in name order; transitive membership loads one tenant's groups at once.
groupSchema.index({ tenantId: 1, displayName: 1 });
outboxPlugin(groupSchema);

const additionSchema = new Schema(
  { productId: { type: String, required: true }, name: { type: String, default: '' }, ...dateRange },
  { _id: false },
);
const psaAgreementSchema = new Schema<PsaAgreementDocument>(
  {
    ...common,
    integrationId: { type: String, required: true },
    provider: { type: String, required: true },
    externalId: { type: String, required: true },
    name: { type: String, required: true },
    agreementTypeId: { type: String, required: true },
    ...dateRange,
    additions: { type: [additionSchema], default: [] },
  },
  { versionKey: false, collection: 'psa_agreements' },
);
// A tenant's agreements (GET /psa-agreements?tenantId=…), and a sync run's "what do we hold for this tenant".
psaAgreementSchema.index({ tenantId: 1, integrationId: 1 });
outboxPlugin(psaAgreementSchema);

export interface DirectoryModels {
  tenants: Model<TenantDocument>;
  people: Model<PersonDocument>;
  groups: Model<GroupDocument>;
  psaAgreements: Model<PsaAgreementDocument>;
}

export function directoryModels(conn: Connection): DirectoryModels {
  return {
    tenants: conn.model<TenantDocument>('Tenant', tenantSchema),
    people: conn.model<PersonDocument>('Person', personSchema),
    groups: conn.model<GroupDocument>('Group', groupSchema),
    psaAgreements: conn.model<PsaAgreementDocument>('PsaAgreement', psaAgreementSchema),
  };
}
