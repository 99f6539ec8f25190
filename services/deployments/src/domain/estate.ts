import { indexCatalog, type CatalogIndex } from './catalog-index.ts';
import {
  agreementsOfTenant,
  groupsOfPerson,
  indexDirectory,
  lineageOfTenant,
  tagsOfPerson,
  type DirectoryIndex,
} from './directory-index.ts';
import { orderItems, resolveInOrder, type ItemOrder, type Resolution } from './deployment-resolution.ts';
import { peopleOf } from './target-matching.ts';
import {
  itemKey,
  type Catalog,
  type Computer,
  type Deployment,
  type Directory,
  type ResolveOptions,
} from './types.ts';

/**
 * Everything resolution needs about one MSP's estate except the computers, indexed once so that resolving a
 * computer only looks at the deployments whose target could reach it. Rebuilt when the directory, catalog
 * or deployments change; pure, so it can be cached by version.
 */
export interface Estate {
  directory: DirectoryIndex;
  catalog: CatalogIndex;
  deployments: ReadonlyMap<string, Deployment>;
  /** Every deployment of a maintenance item, keyed by `itemKey` (the rivals in the reverse query). */
  deploymentsOfItem: ReadonlyMap<string, readonly Deployment[]>;
  byTarget: DeploymentsByTarget;
  /** Where each deployment's maintenance item falls in the plan's base order. */
  itemOrder: ItemOrder;
}

/** Deployments bucketed by the id their target names. */
export interface DeploymentsByTarget {
  allComputers: readonly Deployment[];
  tenant: ReadonlyMap<string, readonly Deployment[]>;
  computer: ReadonlyMap<string, readonly Deployment[]>;
  person: ReadonlyMap<string, readonly Deployment[]>;
  entraGroup: ReadonlyMap<string, readonly Deployment[]>;
  tag: ReadonlyMap<string, readonly Deployment[]>;
  psaAgreementType: ReadonlyMap<string, readonly Deployment[]>;
  psaProduct: ReadonlyMap<string, readonly Deployment[]>;
}

const none: readonly Deployment[] = [];

/** Throws PrerequisiteCycleError when the catalog's prerequisites loop. */
export function prepareEstate(
  directory: Directory,
  catalog: Catalog,
  deployments: readonly Deployment[],
): Estate {
  const allComputers: Deployment[] = [];
  const tenant = new Map<string, Deployment[]>();
  const computer = new Map<string, Deployment[]>();
  const person = new Map<string, Deployment[]>();
  const entraGroup = new Map<string, Deployment[]>();
  const tag = new Map<string, Deployment[]>();
  const psaAgreementType = new Map<string, Deployment[]>();
  const psaProduct = new Map<string, Deployment[]>();
  const deploymentsOfItem = new Map<string, Deployment[]>();

  for (const deployment of deployments) {
    const target = deployment.target;
    switch (target.kind) {
      case 'all-computers':
        allComputers.push(deployment);
        break;
      case 'tenant':
        add(tenant, target.tenantId, deployment);
        break;
      case 'computer':
        add(computer, target.computerId, deployment);
        break;
      case 'person':
        add(person, target.personId, deployment);
        break;
      case 'entra-group':
        add(entraGroup, target.groupId, deployment);
        break;
      case 'tag':
        add(tag, target.tag, deployment);
        break;
      case 'psa-agreement':
        add(psaAgreementType, target.agreementTypeId, deployment);
        break;
      case 'psa-product':
        add(psaProduct, target.productId, deployment);
        break;
    }
    add(deploymentsOfItem, itemKey(deployment.maintenanceItem), deployment);
  }

  return {
    directory: indexDirectory(directory),
    catalog: indexCatalog(catalog),
    deployments: new Map(deployments.map((deployment) => [deployment.id, deployment])),
    deploymentsOfItem,
    byTarget: { allComputers, tenant, computer, person, entraGroup, tag, psaAgreementType, psaProduct },
    itemOrder: orderItems(deployments),
  };
}

function add(map: Map<string, Deployment[]>, key: string, deployment: Deployment): void {
  const list = map.get(key);
  if (list) list.push(deployment);
  else map.set(key, [deployment]);
}

/**
 * The deployments whose target might reach the computer; resolution then checks each exactly. PSA
 * deployments of the tenant's agreements are included whatever their dates, so that an expired addition
 * shows up in the explanation as inactive rather than not at all.
 */
export function candidateDeployments(estate: Estate, computer: Computer): Deployment[] {
  const { byTarget, directory } = estate;
  // Buckets keyed by the computer's own tenant, lineage, id or people cannot repeat a deployment; only the
  // ones reached through several groups, tags or agreements can, so only those go through `seen`.
  const found: Deployment[] = [...byTarget.allComputers];
  const seen = new Set<Deployment>();
  const append = (map: ReadonlyMap<string, readonly Deployment[]>, key: string): void => {
    for (const deployment of map.get(key) ?? none) found.push(deployment);
  };
  const collect = (map: ReadonlyMap<string, readonly Deployment[]>, key: string): void => {
    for (const deployment of map.get(key) ?? none) {
      if (!seen.has(deployment)) {
        seen.add(deployment);
        found.push(deployment);
      }
    }
  };

  const lineage = lineageOfTenant(directory, computer.tenantId);
  append(byTarget.tenant, computer.tenantId);
  for (const ancestorId of lineage.slice(1)) {
    for (const deployment of byTarget.tenant.get(ancestorId) ?? none) {
      // An ancestor's tenant deployment reaches here only when it propagates to child tenants.
      if (deployment.target.kind === 'tenant' && deployment.target.includeChildTenants)
        found.push(deployment);
    }
  }
  append(byTarget.computer, computer.id);
  for (const personId of peopleOf(computer)) {
    append(byTarget.person, personId);
    for (const groupId of groupsOfPerson(directory, personId)) collect(byTarget.entraGroup, groupId);
  }
  for (const computerTag of computer.tags) collect(byTarget.tag, computerTag);
  for (const tenantTag of directory.tenants.get(computer.tenantId)?.tags ?? [])
    collect(byTarget.tag, tenantTag);
  if (computer.primaryPersonId !== null) {
    for (const personTag of tagsOfPerson(directory, computer.primaryPersonId))
      collect(byTarget.tag, personTag);
  }
  for (const agreement of agreementsOfTenant(directory, computer.tenantId)) {
    collect(byTarget.psaAgreementType, agreement.agreementTypeId);
    for (const addition of agreement.additions) collect(byTarget.psaProduct, addition.productId);
  }
  return found;
}

/** `resolve` over the estate's candidates for this computer. */
export function resolveComputer(estate: Estate, computer: Computer, options: ResolveOptions): Resolution {
  return resolveInOrder(
    computer,
    candidateDeployments(estate, computer),
    estate.itemOrder,
    estate.catalog,
    estate.directory,
    options,
  );
}
