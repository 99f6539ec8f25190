import { outboxPlugin, type OutboxFields } from '@converge/store';
import { Schema, type Connection, type Model } from 'mongoose';
import type { ParameterType, ParameterValue } from '../domain/task-parameters.ts';
import type { Prerequisite, UpgradeStrategy } from '../domain/types.ts';

// The catalog: scripts, software and maintenance tasks. An item is global (`tenantId: null`, usable by every
// tenant, managed by the MSP) or owned by one tenant. Items are deleted softly (`deletedAt`), so the deletion
// event leaves through the same document's outbox as every other change.

export const scriptLanguages = ['powershell', 'pwsh', 'bash', 'sh', 'cmd'] as const;
export type ScriptLanguage = (typeof scriptLanguages)[number];
export const executionContexts = ['system', 'user', 'metascript', 'cloud'] as const;
export type ExecutionContext = (typeof executionContexts)[number];
// How software is updated is a product rule (which scripts a session needs), so the list lives in the domain.
export { upgradeStrategies, type UpgradeStrategy } from '../domain/types.ts';

export interface CatalogDocument extends OutboxFields {
  _id: string;
  tenantId: string | null;
  name: string;
  version: number;
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A script body as it was before a change. */
export interface ScriptChange {
  version: number;
  body: string;
  changedAt: Date;
}

export interface ScriptDocument extends CatalogDocument {
  language: ScriptLanguage;
  executionContext: ExecutionContext;
  body: string;
  timeoutSeconds: number;
  /** Oldest first: each update appends the body and version it replaced. */
  history: ScriptChange[];
}

export interface SoftwareVersionEntry {
  version: string;
  /** Where the installer comes from (a URL or a file reference the install script understands). */
  installerReference: string;
  releasedAt: Date | null;
  /** A version's own scripts override the software's. */
  installScriptId: string | null;
  uninstallScriptId: string | null;
  upgradeScriptId: string | null;
}

export interface SoftwareDocument extends CatalogDocument {
  /** Its last output line is the installed version, or nothing when the software is absent. */
  detectionScriptId: string;
  installScriptId: string | null;
  uninstallScriptId: string | null;
  upgradeScriptId: string | null;
  upgradeStrategy: UpgradeStrategy;
  rebootNeeded: boolean;
  /** Newest first (`@converge/versions` order). */
  versions: SoftwareVersionEntry[];
  prerequisites: Prerequisite[];
}

export interface StoredParameterDefinition {
  name: string;
  type: ParameterType;
  required: boolean;
  /** Null for secrets, whose default is only ever stored sealed. */
  defaultValue: ParameterValue | null;
  sealedDefault: string | null;
  min: number | null;
  max: number | null;
  pattern: string | null;
  options: string[];
}

export interface MaintenanceTaskDocument extends CatalogDocument {
  targetCategory: 'computer' | 'tenant';
  /** Either test/set/get scripts, or one combined script told the method as a parameter. */
  testScriptId: string | null;
  setScriptId: string | null;
  getScriptId: string | null;
  combinedScriptId: string | null;
  parameters: StoredParameterDefinition[];
}

const catalogFields = {
  _id: { type: String, required: true },
  tenantId: { type: String, default: null },
  name: { type: String, required: true },
  version: { type: Number, required: true, default: 1 },
  deletedAt: { type: Date, default: null },
  createdAt: { type: Date, required: true },
  updatedAt: { type: Date, required: true },
};

function catalogSchema<T extends CatalogDocument>(fields: Record<string, unknown>): Schema<T> {
  const schema = new Schema<T>({ ...catalogFields, ...fields }, { versionKey: false });
  outboxPlugin(schema);
  // Lists show one tenant's items and the global ones (tenantId null), sorted by name.
  schema.index({ tenantId: 1, name: 1 });
  return schema;
}

const scriptSchema = catalogSchema<ScriptDocument>({
  language: { type: String, required: true },
  executionContext: { type: String, required: true },
  body: { type: String, required: true },
  timeoutSeconds: { type: Number, required: true },
  history: { type: Schema.Types.Mixed, default: [] },
});

const softwareSchema = catalogSchema<SoftwareDocument>({
  detectionScriptId: { type: String, required: true },
  installScriptId: { type: String, default: null },
  uninstallScriptId: { type: String, default: null },
  upgradeScriptId: { type: String, default: null },
  upgradeStrategy: { type: String, required: true },
  rebootNeeded: { type: Boolean, required: true },
  versions: { type: Schema.Types.Mixed, default: [] },
  prerequisites: { type: Schema.Types.Mixed, default: [] },
});

const maintenanceTaskSchema = catalogSchema<MaintenanceTaskDocument>({
  targetCategory: { type: String, required: true },
  testScriptId: { type: String, default: null },
  setScriptId: { type: String, default: null },
  getScriptId: { type: String, default: null },
  combinedScriptId: { type: String, default: null },
  parameters: { type: Schema.Types.Mixed, default: [] },
});

export interface CatalogModels {
  script: Model<ScriptDocument>;
  software: Model<SoftwareDocument>;
  maintenanceTask: Model<MaintenanceTaskDocument>;
}

export function catalogModels(conn: Connection): CatalogModels {
  return {
    script: conn.model<ScriptDocument>('Script', scriptSchema),
    software: conn.model<SoftwareDocument>('Software', softwareSchema, 'software'),
    maintenanceTask: conn.model<MaintenanceTaskDocument>('MaintenanceTask', maintenanceTaskSchema),
  };
}
