import type { Request, Response, Router } from 'express';
import { authorize, tenantScopeOf } from '@converge/access';
import type { ComputerChange, DeviceType, OnboardingStatus } from '@converge/contracts';
import { principalOf } from '@converge/http';
import type { TenantScope } from '@converge/store';
import { canonicalHardwareUuid } from '../../domain/hardware-identifiers.ts';
import type { ComputerDocument } from '../../data-access/computer.schema.ts';
import type { Accepted, ComputerRequests } from '../../use-cases/computer-requests.ts';
import type { IdentityDeps } from '../../use-cases/identity-deps.ts';
import { computerDetailsView, computerView } from './computer-view.ts';
import { flag, pageOf, text } from './query-params.ts';

/** What a technician may change on a computer (the PATCH body). */
type ComputerPatch = Omit<Extract<ComputerChange, { kind: 'edit' }>, 'kind'>;

const sortFields: Record<string, string> = {
  name: 'displayName',
  lastSeenAt: 'lastSeenAt',
  createdAt: 'createdAt',
};
const dayMs = 24 * 60 * 60 * 1000;

interface Manager {
  scope: TenantScope;
  computerId: string;
  authorizeIn: (tenantId: string) => void;
}

/**
 * Computers: list, read, and what technicians change. Reads need `read`, changes `manage-computers`. A change the
 * computer's owner has not applied within the request timeout is answered 202 with the computer's location.
 */
export function computersRoutes(router: Router, deps: IdentityDeps, requests: ComputerRequests): void {
  const details = (res: Response, changed: ComputerDocument | Accepted) => {
    if ('accepted' in changed) {
      res.status(202).location(changed.location).json({ location: changed.location });
      return;
    }
    res.json(computerDetailsView(changed, deps.clock(), deps.staleAfterDays));
  };
  const manage = (req: Request, res: Response): Manager => {
    const principal = principalOf(res);
    authorize(principal, 'manage-computers');
    return {
      scope: tenantScopeOf(principal),
      computerId: String(req.params.computerId),
      authorizeIn: (tenantId: string) => {
        authorize(principal, 'manage-computers', tenantId);
      },
    };
  };

  router.get('/computers', async (req, res) => {
    const principal = principalOf(res);
    const tenantId = text(req, 'tenantId');
    authorize(principal, 'read', tenantId);
    const search = text(req, 'search');
    const online = flag(req, 'online');
    const stale = flag(req, 'stale');
    const hardwareUuid = search === undefined ? null : canonicalHardwareUuid(search);
    const now = deps.clock();
    const filter = {
      deleted: flag(req, 'deleted') ?? false,
      ...(tenantId === undefined ? {} : { tenantId }),
      ...optional('namePrefix', text(req, 'name')),
      ...optional('search', search),
      ...(hardwareUuid === null ? {} : { hardwareUuid }),
      ...optional('onboardingStatus', text(req, 'onboardingStatus') as OnboardingStatus | undefined),
      ...optional('online', online),
      ...optional('deviceType', text(req, 'deviceType') as DeviceType | undefined),
      ...optional('tag', text(req, 'tag')),
      ...(stale === undefined
        ? {}
        : { stale: { value: stale, before: new Date(now.getTime() - deps.staleAfterDays * dayMs) } }),
    };
    const page = await deps.computers.search(
      tenantScopeOf(principal),
      filter,
      pageOf(req, sortFields[text(req, 'sortBy') ?? 'name']),
    );
    res.json({
      items: page.items.map((doc) => computerView(doc, now, deps.staleAfterDays)),
      nextCursor: page.nextCursor,
    });
  });

  router.get('/computers/:computerId', async (req, res) => {
    const principal = principalOf(res);
    authorize(principal, 'read');
    details(res, await deps.computers.getById(tenantScopeOf(principal), req.params.computerId));
  });

  router.patch('/computers/:computerId', async (req, res) => {
    const { scope, computerId, authorizeIn } = manage(req, res);
    const patch = req.body as ComputerPatch;
    details(res, await requests.change(scope, computerId, { kind: 'edit', ...patch }, authorizeIn));
  });

  router.post('/computers/:computerId/delete', async (req, res) => {
    const { scope, computerId, authorizeIn } = manage(req, res);
    details(res, await requests.change(scope, computerId, { kind: 'delete' }, authorizeIn));
  });

  router.post('/computers/:computerId/restore', async (req, res) => {
    const { scope, computerId, authorizeIn } = manage(req, res);
    details(res, await requests.change(scope, computerId, { kind: 'restore' }, authorizeIn));
  });

  router.post('/computers/:computerId/change-tenant', async (req, res) => {
    const { scope, computerId, authorizeIn } = manage(req, res);
    const { tenantId } = req.body as { tenantId: string };
    details(res, await requests.change(scope, computerId, { kind: 'change-tenant', tenantId }, authorizeIn));
  });

  router.post('/computers/:computerId/onboarding/:command', async (req, res) => {
    const { scope, computerId, authorizeIn } = manage(req, res);
    const command = req.params.command === 'reset' ? 'reset' : 'skip';
    details(res, await requests.change(scope, computerId, { kind: 'onboarding', command }, authorizeIn));
  });
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
