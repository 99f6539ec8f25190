// The plain data shapes deployment resolution reads. Ids are strings; dates are epoch milliseconds so that
// resolution compares numbers and never parses (the caller converts once, at the edge).

export const deviceTypes = ['workstation', 'portable', 'server', 'domain-controller'] as const;
export type DeviceType = (typeof deviceTypes)[number];

/** The deployments service's projection of a computer (from identity's computer events). */
export interface Computer {
  id: string;
  tenantId: string;
  deviceType: DeviceType;
  isPrimaryDomainController: boolean;
  tags: readonly string[];
  /** The person user-computer affinity chose as the computer's primary user, if any. */
  primaryPersonId: string | null;
  /** Everyone seen using the computer (the primary person may or may not be listed again). */
  personIds: readonly string[];
  excludedFromMaintenance: boolean;
}

export interface Tenant {
  id: string;
  parentTenantId: string | null;
  tags: readonly string[];
  /** A tenant that manages its own baseline: cross-tenant deployments never reach its computers. */
  excludedFromCrossTenantDeployments: boolean;
}

export interface Person {
  id: string;
  tenantId: string;
  tags: readonly string[];
}

/** An Entra ID group: direct members, and groups nested in it (resolved transitively when indexed). */
export interface EntraGroup {
  id: string;
  tenantId: string;
  memberPersonIds: readonly string[];
  memberGroupIds: readonly string[];
}

/** A product added to a PSA agreement, itself dated (offboarding can be scheduled for a given day). */
export interface PsaAddition {
  productId: string;
  startsAt: number;
  /** Exclusive; null while open-ended. */
  endsAt: number | null;
}

export interface PsaAgreement {
  id: string;
  tenantId: string;
  agreementTypeId: string;
  startsAt: number;
  /** Exclusive; null while open-ended. */
  endsAt: number | null;
  additions: readonly PsaAddition[];
}

/** The deployments service's projection of sync's directory. */
export interface Directory {
  tenants: readonly Tenant[];
  people: readonly Person[];
  entraGroups: readonly EntraGroup[];
  psaAgreements: readonly PsaAgreement[];
}

export type MaintenanceItemKind = 'software' | 'maintenance-task';

export interface MaintenanceItemRef {
  kind: MaintenanceItemKind;
  id: string;
}

/** "When these are installed / not installed" — evaluated by the session's detection stage on the computer. */
export interface PrerequisiteCondition {
  when: 'installed' | 'not-installed';
  match: 'any-of' | 'all-of';
  softwareIds: readonly string[];
}

export type PrerequisiteAction =
  | { kind: 'install'; softwareIds: readonly string[] }
  | { kind: 'uninstall'; softwareIds: readonly string[] }
  | { kind: 'fail' };

export interface Prerequisite {
  condition: PrerequisiteCondition;
  action: PrerequisiteAction;
}

/**
 * How a newer version replaces an installed one: run the install script over it, uninstall first, or run the
 * software's own upgrade script.
 */
export const upgradeStrategies = ['uninstall-then-install', 'install-over', 'upgrade-script'] as const;
export type UpgradeStrategy = (typeof upgradeStrategies)[number];

export interface Software {
  id: string;
  name: string;
  prerequisites: readonly Prerequisite[];
}

export interface MaintenanceTask {
  id: string;
  name: string;
}

export interface Catalog {
  software: readonly Software[];
  maintenanceTasks: readonly MaintenanceTask[];
}

export const deviceFilters = [
  'all',
  'servers',
  'workstations',
  'portable-devices',
  'workstations-and-portable-devices',
  'domain-controllers',
  'primary-domain-controllers',
] as const;
export type DeviceFilter = (typeof deviceFilters)[number];

/**
 * Who a deployment is for. The kind also fixes the deployment's scope: computer and person are individual;
 * tenant, Entra group and a tag limited to a tenant are single-tenant; everything else is cross-tenant.
 */
export type Target =
  | { kind: 'all-computers' }
  | { kind: 'tenant'; tenantId: string; includeChildTenants: boolean }
  | { kind: 'computer'; computerId: string }
  | { kind: 'person'; personId: string }
  | { kind: 'entra-group'; groupId: string }
  | { kind: 'tag'; tag: string; tenantId: string | null }
  | { kind: 'psa-agreement'; agreementTypeId: string }
  | { kind: 'psa-product'; productId: string };
export type TargetKind = Target['kind'];

/** Software states first, then maintenance task states (the task's mode). */
export type DesiredState =
  | { state: 'ignored' }
  | { state: 'uninstalled' }
  | { state: 'installed-version'; version: string }
  | { state: 'installed-latest' }
  | { state: 'installed-any' }
  | { state: 'update-if-found' }
  | { state: 'enforced' }
  | { state: 'audited' }
  | { state: 'monitored' };
export type DesiredStateName = DesiredState['state'];

/** required: every session; onboarding: onboarding sessions only; ad-hoc: only when a session asks for them. */
export type Enforcement = 'required' | 'onboarding' | 'ad-hoc';

export interface Deployment {
  id: string;
  enabled: boolean;
  maintenanceItem: MaintenanceItemRef;
  target: Target;
  deviceFilter: DeviceFilter;
  desiredState: DesiredState;
  enforcement: Enforcement;
  /** Higher wins, and only once scope, target kind, device filter and desired state tie. */
  priority: number;
}

export type SessionKind = 'onboarding' | 'full' | 'single-item' | 'detection-only';

export interface ResolveOptions {
  sessionKind: SessionKind;
  /** Also consider ad hoc deployments (a session started by hand for them). */
  adHoc?: boolean;
  /** For single-item sessions: the one maintenance item considered, as `itemKey` spells it. */
  singleItemKey?: string;
  now: number;
  /**
   * Build the per-item explanation (default true, what the REST preview shows). A session only needs the
   * plan and passes false: the winners and the plan are the same, and `explanations` is left empty.
   */
  explain?: boolean;
}

/** `software:<id>` or `maintenance-task:<id>`: one string per maintenance item, for maps and sorting. */
export function itemKey(item: MaintenanceItemRef): string {
  return `${item.kind}:${item.id}`;
}
