// Builders for unit tests: each returns a plain, valid object whose fields a test overrides by name.
import type { Computer, Deployment, Directory, Person, Software, Tenant } from './types.ts';

export function computer(fields: Partial<Computer> = {}): Computer {
  return {
    id: 'computer-1',
    tenantId: 'contoso',
    deviceType: 'workstation',
    isPrimaryDomainController: false,
    tags: [],
    primaryPersonId: null,
    personIds: [],
    excludedFromMaintenance: false,
    ...fields,
  };
}

export function tenant(id: string, fields: Partial<Tenant> = {}): Tenant {
  return { id, parentTenantId: null, tags: [], excludedFromCrossTenantDeployments: false, ...fields };
}

export function person(id: string, fields: Partial<Person> = {}): Person {
  return { id, tenantId: 'contoso', tags: [], ...fields };
}

export function directory(fields: Partial<Directory> = {}): Directory {
  return {
    tenants: [tenant('contoso'), tenant('fabrikam')],
    people: [],
    entraGroups: [],
    psaAgreements: [],
    ...fields,
  };
}

export function software(id: string, fields: Partial<Software> = {}): Software {
  return { id, name: id, prerequisites: [], ...fields };
}

export function deployment(id: string, fields: Partial<Deployment> = {}): Deployment {
  return {
    id,
    enabled: true,
    maintenanceItem: { kind: 'software', id: 'reader' },
    target: { kind: 'all-computers' },
    deviceFilter: 'all',
    desiredState: { state: 'installed-latest' },
    enforcement: 'required',
    priority: 0,
    ...fields,
  };
}
