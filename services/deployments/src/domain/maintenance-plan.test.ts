import { describe, it, expect } from '@jest/globals';
import { indexCatalog } from './catalog-index.ts';
import { deployment, software } from './deployment.fixtures.ts';
import { earlierPrerequisites, planMaintenance } from './maintenance-plan.ts';
import type { Prerequisite } from './types.ts';

function installs(...softwareIds: string[]): Prerequisite {
  return {
    condition: { when: 'not-installed', match: 'all-of', softwareIds },
    action: { kind: 'install', softwareIds },
  };
}

const catalog = indexCatalog({
  software: [
    // Outlook add-in needs Office, which needs the runtime, which needs the framework: three deep.
    software('addin', { prerequisites: [installs('office')] }),
    software('office', { prerequisites: [installs('runtime')] }),
    software('runtime', { prerequisites: [installs('framework')] }),
    software('framework'),
    software('acrobat', {
      prerequisites: [
        {
          condition: { when: 'installed', match: 'any-of', softwareIds: ['reader'] },
          action: { kind: 'uninstall', softwareIds: ['reader'] },
        },
        {
          condition: { when: 'installed', match: 'any-of', softwareIds: ['foxit'] },
          action: { kind: 'fail' },
        },
      ],
    }),
    software('reader'),
    software('zip'),
  ],
  maintenanceTasks: [{ id: 'bitlocker', name: 'BitLocker' }],
});

const sw = (id: string) => ({ kind: 'software', id }) as const;

describe('maintenance plan', () => {
  it('runs a three-deep prerequisite chain first, deepest first', () => {
    const plan = planMaintenance([deployment('d-addin', { maintenanceItem: sw('addin') })], catalog);
    expect(plan.map((item) => [item.maintenanceItem.id, item.deploymentId])).toEqual([
      ['framework', null],
      ['runtime', null],
      ['office', null],
      ['addin', 'd-addin'],
    ]);
    expect(plan[0]?.prerequisiteOf).toEqual([
      { softwareId: 'runtime', condition: installs('framework').condition, action: 'install' },
    ]);
  });

  it('keeps a deployed prerequisite once, with its deployment state, ahead of what needs it', () => {
    const plan = planMaintenance(
      [
        deployment('d-addin', { maintenanceItem: sw('addin') }),
        deployment('d-office', {
          maintenanceItem: sw('office'),
          desiredState: { state: 'installed-version', version: '16.0' },
        }),
      ],
      catalog,
    );
    expect(plan.map((item) => [item.maintenanceItem.id, item.desiredState.state, item.deploymentId])).toEqual(
      [
        ['framework', 'installed-latest', null],
        ['runtime', 'installed-latest', null],
        ['office', 'installed-version', 'd-office'],
        ['addin', 'installed-latest', 'd-addin'],
      ],
    );
    expect(plan[2]?.prerequisiteOf.map((use) => use.softwareId)).toEqual(['addin']);
  });

  it('plans an uninstall prerequisite before the install, and adds nothing for a fail prerequisite', () => {
    const plan = planMaintenance([deployment('d-acrobat', { maintenanceItem: sw('acrobat') })], catalog);
    expect(plan.map((item) => [item.maintenanceItem.id, item.desiredState.state])).toEqual([
      ['reader', 'uninstalled'],
      ['acrobat', 'installed-latest'],
    ]);
  });

  it('expands no prerequisites for software that is ignored or uninstalled', () => {
    const plan = planMaintenance(
      [deployment('d', { maintenanceItem: sw('addin'), desiredState: { state: 'uninstalled' } })],
      catalog,
    );
    expect(plan.map((item) => item.maintenanceItem.id)).toEqual(['addin']);
  });

  it('orders software before tasks, each by id, whatever order the winners come in', () => {
    const winners = [
      deployment('d-task', {
        maintenanceItem: { kind: 'maintenance-task', id: 'bitlocker' },
        desiredState: { state: 'enforced' },
      }),
      deployment('d-zip', { maintenanceItem: sw('zip') }),
      deployment('d-reader', { maintenanceItem: sw('reader') }),
    ];
    const ids = (list: typeof winners) =>
      planMaintenance(list, catalog).map((item) => item.maintenanceItem.id);
    expect(ids(winners)).toEqual(['reader', 'zip', 'bitlocker']);
    expect(ids([...winners].reverse())).toEqual(['reader', 'zip', 'bitlocker']);
  });

  it('lists, for each item, the earlier items it waits for: the inverse of prerequisiteOf', () => {
    const plan = planMaintenance(
      [
        deployment('d-addin', { maintenanceItem: sw('addin') }),
        deployment('d-runtime', { maintenanceItem: sw('runtime') }),
      ],
      catalog,
    );
    expect(plan.map((item) => item.maintenanceItem.id)).toEqual(['framework', 'runtime', 'office', 'addin']);
    expect(earlierPrerequisites(plan)).toEqual([[], ['framework'], ['runtime'], ['office']]);
  });

  it('leaves out a prerequisite placed after the item that needs it, so order alone runs them first', () => {
    // "suite" installs "plugin" first; "plugin" uninstalls "suite" first: allowed, only installs form cycles.
    const looping = indexCatalog({
      software: [
        software('suite', { prerequisites: [installs('plugin')] }),
        software('plugin', {
          prerequisites: [
            {
              condition: { when: 'installed', match: 'any-of', softwareIds: ['suite'] },
              action: { kind: 'uninstall', softwareIds: ['suite'] },
            },
          ],
        }),
      ],
      maintenanceTasks: [],
    });
    const plan = planMaintenance([deployment('d-suite', { maintenanceItem: sw('suite') })], looping);
    expect(
      plan.map((item) => [item.maintenanceItem.id, item.prerequisiteOf.map((use) => use.softwareId)]),
    ).toEqual([
      ['plugin', ['suite']],
      ['suite', ['plugin']],
    ]);
    expect(earlierPrerequisites(plan)).toEqual([[], ['plugin']]);
  });
});
