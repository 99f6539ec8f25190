import type { Router } from 'express';
import { principalOf } from '@converge/http';
import type { CatalogRepository } from '../../data-access/catalog.repository.ts';
import type {
  CatalogDocument,
  MaintenanceTaskDocument,
  ScriptDocument,
  SoftwareDocument,
} from '../../data-access/catalog.schemas.ts';
import type {
  CatalogUseCases,
  MaintenanceTaskInput,
  ScriptInput,
  SoftwareInput,
} from '../../use-cases/catalog.ts';
import { present, presentMaintenanceTask } from './catalog.presenters.ts';
import { bodyVersion, pageRequestOf, pathId, queryText, versionQuery } from './request-parsing.ts';

export interface CatalogRepositories {
  scripts: CatalogRepository<ScriptDocument>;
  software: CatalogRepository<SoftwareDocument>;
  maintenanceTasks: CatalogRepository<MaintenanceTaskDocument>;
}

interface CatalogResource<T extends CatalogDocument, I> {
  path: string;
  repository: CatalogRepository<T>;
  create(principal: ReturnType<typeof principalOf>, input: I): Promise<T>;
  update(principal: ReturnType<typeof principalOf>, id: string, version: number, input: I): Promise<T>;
  present(doc: T): unknown;
}

/** The same five routes for each kind of catalog item. Authorization happens in the use cases. */
function catalogRoutes<T extends CatalogDocument, I extends { version?: number }>(
  router: Router,
  catalog: CatalogUseCases,
  resource: CatalogResource<T, I>,
): void {
  const { path, repository } = resource;
  router.get(path, async (req, res) => {
    const page = await catalog.list(principalOf(res), repository, pageRequestOf(req), queryText(req, 'name'));
    res.json({ items: page.items.map((doc) => resource.present(doc)), nextCursor: page.nextCursor });
  });
  router.post(path, async (req, res) => {
    const doc = await resource.create(principalOf(res), req.body as I);
    res.status(201).json(resource.present(doc));
  });
  router.get(`${path}/:id`, async (req, res) => {
    res.json(resource.present(await catalog.get(principalOf(res), repository, pathId(req))));
  });
  router.put(`${path}/:id`, async (req, res) => {
    const input = req.body as I;
    const doc = await resource.update(principalOf(res), pathId(req), bodyVersion(input), input);
    res.json(resource.present(doc));
  });
  router.delete(`${path}/:id`, async (req, res) => {
    await catalog.delete(principalOf(res), repository, pathId(req), versionQuery(req));
    res.status(204).end();
  });
}

export function catalogRouter(catalog: CatalogUseCases, repositories: CatalogRepositories) {
  return (router: Router): void => {
    catalogRoutes<ScriptDocument, ScriptInput>(router, catalog, {
      path: '/scripts',
      repository: repositories.scripts,
      create: (principal, input) => catalog.createScript(principal, input),
      update: (principal, id, version, input) => catalog.updateScript(principal, id, version, input),
      present,
    });
    catalogRoutes<SoftwareDocument, SoftwareInput>(router, catalog, {
      path: '/software',
      repository: repositories.software,
      create: (principal, input) => catalog.createSoftware(principal, input),
      update: (principal, id, version, input) => catalog.updateSoftware(principal, id, version, input),
      present,
    });
    catalogRoutes<MaintenanceTaskDocument, MaintenanceTaskInput>(router, catalog, {
      path: '/maintenance-tasks',
      repository: repositories.maintenanceTasks,
      create: (principal, input) => catalog.createMaintenanceTask(principal, input),
      update: (principal, id, version, input) => catalog.updateMaintenanceTask(principal, id, version, input),
      present: presentMaintenanceTask,
    });
  };
}
