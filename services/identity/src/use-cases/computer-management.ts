import { ConflictError, NotFoundError } from '@converge/errors';
import { allTenants, type TenantScope } from '@converge/store';
import { InvalidOnboardingTransitionError, transitionOnboarding } from '../domain/onboarding-status.ts';
import { lookupKeys } from '../data-access/computer-lookup.repository.ts';
import type { ComputerDocument } from '../data-access/computer.schema.ts';
import { DuplicateIdentityError } from '../data-access/computer.repository.ts';
import { stateOf, writeComputer, type ComputerState, type ComputerWrite } from './computer-writer.ts';
import type { IdentityDeps } from './identity-deps.ts';

/** What a technician may change on a computer. */
export interface ComputerPatch {
  name?: string | null;
  tags?: string[];
  notes?: string;
  excludedFromMaintenance?: boolean;
  pinnedPrimaryPersonId?: string | null;
  excludedFromAffinity?: boolean;
}

type Change = (
  current: ComputerDocument,
) => Promise<Pick<ComputerWrite, 'history'> & { next: ComputerState }>;

const maxAttempts = 5;

/**
 * Loads the computer inside the caller's scope (absent when outside it), lets `authorizeIn` check the tenant,
 * and writes the change; a concurrent change of the same computer (an agent report) makes it start over.
 */
async function changeComputer(
  deps: IdentityDeps,
  scope: TenantScope,
  computerId: string,
  authorizeIn: (tenantId: string) => void,
  change: Change,
): Promise<ComputerDocument> {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.computers.getById(scope, computerId);
    authorizeIn(current.tenantId);
    try {
      return await writeComputer(deps, { current, ...(await change(current)) });
    } catch (error) {
      if (
        attempt >= maxAttempts ||
        !(error instanceof ConflictError) ||
        error instanceof DuplicateIdentityError
      ) {
        throw error;
      }
    }
  }
}

function live(current: ComputerDocument): void {
  if (current.deletedAt !== null) throw new ConflictError('the computer is deleted; restore it first');
}

export function patchComputer(
  deps: IdentityDeps,
  scope: TenantScope,
  computerId: string,
  patch: ComputerPatch,
  authorizeIn: (tenantId: string) => void,
): Promise<ComputerDocument> {
  return changeComputer(deps, scope, computerId, authorizeIn, (current) => {
    const state = stateOf(current);
    const affinity = {
      ...state.affinity,
      ...(patch.pinnedPrimaryPersonId === undefined ? {} : { pinnedPersonId: patch.pinnedPrimaryPersonId }),
      ...(patch.excludedFromAffinity === undefined ? {} : { excluded: patch.excludedFromAffinity }),
    };
    const next: ComputerState = {
      ...state,
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.tags === undefined ? {} : { tags: [...new Set(patch.tags.map((tag) => tag.trim()))] }),
      ...(patch.notes === undefined ? {} : { notes: patch.notes }),
      ...(patch.excludedFromMaintenance === undefined
        ? {}
        : { excludedFromMaintenance: patch.excludedFromMaintenance }),
      affinity,
    };
    return Promise.resolve({ next });
  });
}

export function deleteComputer(
  deps: IdentityDeps,
  scope: TenantScope,
  computerId: string,
  authorizeIn: (tenantId: string) => void,
): Promise<ComputerDocument> {
  return changeComputer(deps, scope, computerId, authorizeIn, (current) => {
    live(current);
    return Promise.resolve({
      next: { ...stateOf(current), deletedAt: deps.clock() },
      history: [{ event: 'deleted', agentId: null, detail: null }],
    });
  });
}

/**
 * Restores a deleted computer, unless its machine has been identified afresh meanwhile: then another computer
 * holds its hardware identity or one of its agents, and restoring would make two computers of one machine.
 */
export function restoreComputer(
  deps: IdentityDeps,
  scope: TenantScope,
  computerId: string,
  authorizeIn: (tenantId: string) => void,
): Promise<ComputerDocument> {
  return changeComputer(deps, scope, computerId, authorizeIn, async (current) => {
    if (current.deletedAt === null) throw new ConflictError('the computer is not deleted');
    for (const agent of current.agents) {
      for (const id of await deps.lookups.computerIds(lookupKeys.agent(agent.agentId))) {
        const other = id === current._id ? null : await deps.computers.findAnyById(id);
        if (
          other !== null &&
          other.deletedAt === null &&
          other.agents.some((a) => a.agentId === agent.agentId)
        ) {
          throw new ConflictError(`agent ${agent.agentId} now belongs to computer ${other._id}`);
        }
      }
    }
    return {
      next: { ...stateOf(current), deletedAt: null },
      history: [{ event: 'restored', agentId: null, detail: null }],
    };
  });
}

export function changeTenant(
  deps: IdentityDeps,
  scope: TenantScope,
  computerId: string,
  tenantId: string,
  authorizeIn: (tenantId: string) => void,
): Promise<ComputerDocument> {
  authorizeIn(tenantId);
  return changeComputer(deps, scope, computerId, authorizeIn, (current) => {
    live(current);
    return Promise.resolve({
      next: { ...stateOf(current), tenantId },
      history: [
        { event: 'tenant-changed', agentId: null, detail: `from ${current.tenantId} to ${tenantId}` },
      ],
    });
  });
}

export function changeOnboarding(
  deps: IdentityDeps,
  scope: TenantScope,
  computerId: string,
  command: 'reset' | 'skip',
  authorizeIn: (tenantId: string) => void,
): Promise<ComputerDocument> {
  return changeComputer(deps, scope, computerId, authorizeIn, (current) => {
    live(current);
    return Promise.resolve({
      next: {
        ...stateOf(current),
        onboardingStatus: transitionOnboarding(current.onboardingStatus, command),
      },
      history: [{ event: `onboarding-${command}`, agentId: null, detail: null }],
    });
  });
}

/**
 * Follows the computer's onboarding session: it started, passed, or ended otherwise. A move the status does not
 * allow (a redelivered or late session event, a technician's skip in between) changes nothing.
 */
export async function followOnboardingSession(
  deps: IdentityDeps,
  computerId: string,
  command: 'start' | 'complete' | 'fail',
): Promise<void> {
  try {
    await changeComputer(
      deps,
      allTenants,
      computerId,
      () => undefined,
      (current) =>
        Promise.resolve({
          next: {
            ...stateOf(current),
            onboardingStatus: transitionOnboarding(current.onboardingStatus, command),
          },
          history: [{ event: `onboarding-${command}`, agentId: null, detail: 'maintenance session' }],
        }),
    );
  } catch (error) {
    if (error instanceof InvalidOnboardingTransitionError || error instanceof NotFoundError) return;
    throw error;
  }
}
