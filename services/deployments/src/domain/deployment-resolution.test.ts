import { describe, it, expect } from '@jest/globals';
import { indexCatalog } from './catalog-index.ts';
import { computer, deployment, directory, person, software, tenant } from './deployment.fixtures.ts';
import { resolve } from './deployment-resolution.ts';
import { indexDirectory } from './directory-index.ts';
import type { Computer, Deployment, ResolveOptions } from './types.ts';

const catalog = indexCatalog({
  software: [software('reader'), software('acrobat')],
  maintenanceTasks: [{ id: 'bitlocker', name: 'BitLocker' }],
});
const directoryIndex = indexDirectory(
  directory({
    tenants: [
      tenant('msp'),
      tenant('contoso', { parentTenantId: 'msp' }),
      tenant('contoso-east', { parentTenantId: 'contoso' }),
      tenant('self-managed', { excludedFromCrossTenantDeployments: true }),
    ],
    people: [person('alice')],
    entraGroups: [{ id: 'staff', tenantId: 'contoso', memberPersonIds: ['alice'], memberGroupIds: [] }],
  }),
);
const full: ResolveOptions = { sessionKind: 'full', now: 0 };

function resolveFor(candidates: Deployment[], options = full, target: Computer = computer()) {
  return resolve(target, candidates, catalog, directoryIndex, options);
}

function winnerOf(candidates: Deployment[], options = full, target: Computer = computer()) {
  return resolveFor(candidates, options, target).explanations[0]?.winnerDeploymentId;
}

const contoso = { kind: 'tenant', tenantId: 'contoso', includeChildTenants: false } as const;

describe('deployment resolution: the reference examples', () => {
  it('a tenant that uses Acrobat gets Reader uninstalled although all computers get Reader installed', () => {
    const result = resolveFor([
      deployment('reader-everywhere'),
      deployment('contoso-no-reader', { target: contoso, desiredState: { state: 'uninstalled' } }),
      deployment('contoso-acrobat', {
        target: contoso,
        maintenanceItem: { kind: 'software', id: 'acrobat' },
      }),
    ]);
    expect(result.plan.map((item) => [item.maintenanceItem.id, item.desiredState.state])).toEqual([
      ['acrobat', 'installed-latest'],
      ['reader', 'uninstalled'],
    ]);
    const reader = result.explanations.find((item) => item.maintenanceItem.id === 'reader')!;
    expect(reader.candidates).toEqual([
      { deploymentId: 'contoso-no-reader', outcome: 'ranked', rank: 1, decidedBy: 'scope' },
      { deploymentId: 'reader-everywhere', outcome: 'ranked', rank: 2, decidedBy: 'scope' },
    ]);
  });

  it('a single computer set to ignored beats an all-computers deployment', () => {
    const candidates = [
      deployment('reader-everywhere'),
      deployment('leave-this-one', {
        target: { kind: 'computer', computerId: 'computer-1' },
        desiredState: { state: 'ignored' },
      }),
    ];
    expect(winnerOf(candidates)).toBe('leave-this-one');
    expect(winnerOf(candidates, full, computer({ id: 'computer-2' }))).toBe('reader-everywhere');
  });

  it('a tenant deployment propagates to child tenants, and the nearer tenant wins', () => {
    const fromMsp = deployment('msp', {
      target: { kind: 'tenant', tenantId: 'msp', includeChildTenants: true },
    });
    const fromContoso = deployment('contoso', {
      target: { kind: 'tenant', tenantId: 'contoso', includeChildTenants: true },
      desiredState: { state: 'installed-any' },
    });
    const east = computer({ tenantId: 'contoso-east' });
    expect(winnerOf([fromMsp], full, east)).toBe('msp');
    expect(winnerOf([fromMsp, fromContoso], full, east)).toBe('contoso');
    const own = deployment('east-own', {
      target: { kind: 'tenant', tenantId: 'contoso-east', includeChildTenants: false },
      desiredState: { state: 'update-if-found' },
    });
    expect(winnerOf([fromMsp, fromContoso, own], full, east)).toBe('east-own');
  });

  it('onboarding-only deployments apply only in onboarding sessions', () => {
    const candidates = [deployment('first-day', { enforcement: 'onboarding' })];
    expect(winnerOf(candidates, { sessionKind: 'onboarding', now: 0 })).toBe('first-day');
    expect(resolveFor(candidates).explanations[0]?.candidates).toEqual([
      { deploymentId: 'first-day', outcome: 'dropped', reason: 'onboarding-only' },
    ]);
  });
});

describe('deployment resolution: what is dropped, and why', () => {
  it('drops disabled deployments', () => {
    expect(resolveFor([deployment('off', { enabled: false })]).explanations[0]?.candidates[0]).toMatchObject({
      outcome: 'dropped',
      reason: 'disabled',
    });
  });

  it('drops ad hoc deployments unless the session asks for them', () => {
    const candidates = [deployment('by-hand', { enforcement: 'ad-hoc' })];
    expect(winnerOf(candidates)).toBeNull();
    expect(winnerOf(candidates, { sessionKind: 'full', adHoc: true, now: 0 })).toBe('by-hand');
  });

  it('drops cross-tenant deployments for a tenant excluded from them, but not its own deployments', () => {
    const target = computer({ tenantId: 'self-managed' });
    const result = resolveFor(
      [
        deployment('everywhere'),
        deployment('own', {
          target: { kind: 'tenant', tenantId: 'self-managed', includeChildTenants: false },
        }),
      ],
      full,
      target,
    );
    expect(result.explanations[0]?.winnerDeploymentId).toBe('own');
    expect(result.explanations[0]?.candidates[1]).toMatchObject({
      reason: 'tenant-excluded-from-cross-tenant',
    });
  });

  it('drops everything for a computer excluded from maintenance', () => {
    const result = resolveFor([deployment('everywhere')], full, computer({ excludedFromMaintenance: true }));
    expect(result.plan).toEqual([]);
    expect(result.explanations[0]?.candidates[0]).toMatchObject({
      reason: 'computer-excluded-from-maintenance',
    });
  });

  it('drops deployments whose target or device filter does not reach the computer', () => {
    const result = resolveFor([
      deployment('fabrikam', {
        target: { kind: 'tenant', tenantId: 'fabrikam', includeChildTenants: false },
      }),
      deployment('servers', { deviceFilter: 'servers' }),
    ]);
    expect(result.explanations[0]?.candidates).toEqual([
      { deploymentId: 'fabrikam', outcome: 'dropped', reason: 'target-not-matched' },
      { deploymentId: 'servers', outcome: 'dropped', reason: 'device-filter-not-matched' },
    ]);
  });

  it('drops deployments of items missing from the catalog', () => {
    const result = resolveFor([deployment('ghost', { maintenanceItem: { kind: 'software', id: 'gone' } })]);
    expect(result.explanations[0]?.candidates[0]).toMatchObject({ reason: 'not-in-catalog' });
  });

  it('a single-item session considers only that maintenance item', () => {
    const result = resolveFor(
      [deployment('reader'), deployment('acrobat', { maintenanceItem: { kind: 'software', id: 'acrobat' } })],
      { sessionKind: 'single-item', singleItemKey: 'software:reader', now: 0 },
    );
    expect(result.plan.map((item) => item.deploymentId)).toEqual(['reader']);
    expect(result.explanations[0]?.candidates[0]).toMatchObject({ reason: 'not-the-single-item' });
  });
});

describe('deployment resolution: ranking rules, each deciding on its own', () => {
  const ranked = (candidates: Deployment[], target = computer({ personIds: ['alice'] })) =>
    resolveFor(candidates, full, target).explanations[0]!.candidates;

  it('scope: an individual deployment beats a single-tenant one', () => {
    expect(
      ranked([
        deployment('tenant', { target: contoso, desiredState: { state: 'ignored' } }),
        deployment('person', { target: { kind: 'person', personId: 'alice' } }),
      ])[0],
    ).toEqual({ deploymentId: 'person', outcome: 'ranked', rank: 1, decidedBy: 'scope' });
  });

  it('target kind: within one scope, a computer beats a person, and a group beats the tenant', () => {
    expect(
      ranked([
        deployment('person', { target: { kind: 'person', personId: 'alice' } }),
        deployment('computer', { target: { kind: 'computer', computerId: 'computer-1' } }),
      ])[0],
    ).toMatchObject({ deploymentId: 'computer', decidedBy: 'target-kind' });
    expect(
      ranked([
        deployment('tenant', { target: contoso }),
        deployment('group', { target: { kind: 'entra-group', groupId: 'staff' } }),
      ])[0],
    ).toMatchObject({ deploymentId: 'group', decidedBy: 'target-kind' });
  });

  it('target kind: among cross-tenant deployments, a tag beats all computers', () => {
    expect(
      ranked(
        [deployment('all'), deployment('tag', { target: { kind: 'tag', tag: 'kiosk', tenantId: null } })],
        computer({ tags: ['kiosk'] }),
      )[0],
    ).toMatchObject({ deploymentId: 'tag', decidedBy: 'target-kind' });
  });

  it('device filter: the narrower filter wins', () => {
    expect(
      ranked([
        deployment('any-device', { desiredState: { state: 'ignored' } }),
        deployment('workstations', { deviceFilter: 'workstations' }),
      ])[0],
    ).toMatchObject({ deploymentId: 'workstations', decidedBy: 'device-filter' });
  });

  it('desired state: ignored, then uninstalled, then a pinned version, latest, any, update-if-found', () => {
    const states = [
      { state: 'update-if-found' },
      { state: 'installed-any' },
      { state: 'installed-latest' },
      { state: 'installed-version', version: '1.2' },
      { state: 'uninstalled' },
      { state: 'ignored' },
    ] as const;
    const candidates = states.map((desiredState, index) => deployment(`d${index}`, { desiredState }));
    expect(ranked(candidates).map((candidate) => candidate.deploymentId)).toEqual([
      'd5',
      'd4',
      'd3',
      'd2',
      'd1',
      'd0',
    ]);
    expect(ranked(candidates)[1]).toMatchObject({ decidedBy: 'desired-state' });
  });

  it('desired state for tasks: ignored, then enforced, audited, monitored', () => {
    const task = { kind: 'maintenance-task', id: 'bitlocker' } as const;
    const candidates = (['monitored', 'audited', 'enforced', 'ignored'] as const).map((state, index) =>
      deployment(`t${index}`, { maintenanceItem: task, desiredState: { state } }),
    );
    expect(ranked(candidates).map((candidate) => candidate.deploymentId)).toEqual(['t3', 't2', 't1', 't0']);
  });

  it('priority: the higher priority wins once everything before it ties', () => {
    expect(ranked([deployment('a', { priority: 1 }), deployment('b', { priority: 5 })])[0]).toMatchObject({
      deploymentId: 'b',
      decidedBy: 'priority',
    });
  });

  it('deployment id: the last, stable tie-break, whatever the input order', () => {
    expect(ranked([deployment('b'), deployment('a')])[0]).toMatchObject({
      deploymentId: 'a',
      decidedBy: 'deployment-id',
    });
    expect(ranked([deployment('a'), deployment('b')])[0]).toMatchObject({
      deploymentId: 'a',
      decidedBy: 'deployment-id',
    });
  });

  it('explains each loser by the rule on which it lost to the winner', () => {
    const candidates = ranked([
      deployment('computer', { target: { kind: 'computer', computerId: 'computer-1' } }),
      deployment('tenant', { target: contoso }),
      deployment('all-low', { priority: -1 }),
      deployment('all'),
    ]);
    expect(
      candidates.map((candidate) => [
        candidate.deploymentId,
        candidate.outcome === 'ranked' && candidate.decidedBy,
      ]),
    ).toEqual([
      ['computer', 'scope'],
      ['tenant', 'scope'],
      ['all', 'scope'],
      ['all-low', 'scope'],
    ]);
  });

  it('the only candidate wins with no rule deciding', () => {
    expect(ranked([deployment('alone')])[0]).toEqual({
      deploymentId: 'alone',
      outcome: 'ranked',
      rank: 1,
      decidedBy: null,
    });
  });
});
