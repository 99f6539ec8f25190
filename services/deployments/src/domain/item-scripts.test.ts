import { describe, it, expect } from '@jest/globals';
import {
  desiredVersionOf,
  newestVersion,
  softwareScripts,
  taskScripts,
  type SoftwareScriptIds,
  type TaskScriptIds,
} from './item-scripts.ts';
import type { DesiredState } from './types.ts';

function software(fields: Partial<SoftwareScriptIds> = {}): SoftwareScriptIds {
  return {
    detectionScriptId: 'detect',
    installScriptId: 'install',
    uninstallScriptId: 'uninstall',
    upgradeScriptId: 'upgrade',
    upgradeStrategy: 'install-over',
    versions: [
      { version: '2.0', installScriptId: null, uninstallScriptId: null, upgradeScriptId: null },
      { version: '1.0', installScriptId: 'install-1', uninstallScriptId: null, upgradeScriptId: 'upgrade-1' },
    ],
    ...fields,
  };
}

const steps = (scripts: { step: string; scriptId: string }[]) =>
  scripts.map((script) => `${script.step}:${script.scriptId}`);

describe('software scripts', () => {
  it("takes a pinned version's own scripts over the software's, and the software's where it has none", () => {
    const result = softwareScripts(
      software({ upgradeStrategy: 'upgrade-script' }),
      { state: 'installed-version', version: '1.0' },
      '1.0',
      true,
    );
    expect(steps(result.scripts)).toEqual(['detect:detect', 'install:install-1', 'upgrade:upgrade-1']);
    expect(result.missing).toEqual([]);
  });

  it('matches the version entry as a version, so 1.0.0 finds 1.0', () => {
    const result = softwareScripts(
      software(),
      { state: 'installed-version', version: '1.0.0' },
      '1.0.0',
      true,
    );
    expect(steps(result.scripts)).toEqual(['detect:detect', 'install:install-1']);
  });

  it('gives upgrade scripts only to the upgrade-script strategy, and never to "installed any"', () => {
    const latest: DesiredState = { state: 'installed-latest' };
    expect(steps(softwareScripts(software(), latest, '2.0', true).scripts)).toEqual([
      'detect:detect',
      'install:install',
    ]);
    const upgrading = software({ upgradeStrategy: 'upgrade-script' });
    expect(steps(softwareScripts(upgrading, latest, '2.0', true).scripts)).toContain('upgrade:upgrade');
    expect(steps(softwareScripts(upgrading, { state: 'installed-any' }, '2.0', true).scripts)).toEqual([
      'detect:detect',
      'install:install',
    ]);
  });

  it('passes the uninstall script along for uninstall-then-install, without needing it', () => {
    const withIt = software({ upgradeStrategy: 'uninstall-then-install' });
    expect(steps(softwareScripts(withIt, { state: 'installed-latest' }, '2.0', true).scripts)).toEqual([
      'detect:detect',
      'install:install',
      'uninstall:uninstall',
    ]);
    const without = software({ upgradeStrategy: 'uninstall-then-install', uninstallScriptId: null });
    expect(softwareScripts(without, { state: 'installed-latest' }, '2.0', true).missing).toEqual([]);
  });

  it('needs the uninstall script to uninstall, and the install script to install', () => {
    const bare = software({ installScriptId: null, uninstallScriptId: null });
    expect(softwareScripts(bare, { state: 'uninstalled' }, null, true).missing).toEqual(['uninstall']);
    expect(softwareScripts(bare, { state: 'installed-latest' }, '2.0', true).missing).toEqual(['install']);
    // Version 1.0 brings its own install script.
    expect(
      softwareScripts(bare, { state: 'installed-version', version: '1.0' }, '1.0', true).missing,
    ).toEqual([]);
  });

  it('does not need an installer where software found is only ever upgraded by script', () => {
    const upgradeOnly = software({ upgradeStrategy: 'upgrade-script', installScriptId: null });
    expect(softwareScripts(upgradeOnly, { state: 'update-if-found' }, '2.0', true)).toEqual({
      scripts: [
        { step: 'detect', scriptId: 'detect', methodParameter: false },
        { step: 'upgrade', scriptId: 'upgrade', methodParameter: false },
      ],
      missing: [],
    });
  });

  it('needs only detection in a session that does not execute', () => {
    const bare = software({
      installScriptId: null,
      uninstallScriptId: null,
      upgradeStrategy: 'upgrade-script',
      upgradeScriptId: null,
    });
    expect(softwareScripts(bare, { state: 'installed-latest' }, '2.0', false).missing).toEqual([]);
    expect(softwareScripts(bare, { state: 'uninstalled' }, null, false).missing).toEqual([]);
  });
});

describe('task scripts', () => {
  const separate: TaskScriptIds = {
    testScriptId: 'test',
    setScriptId: 'set',
    getScriptId: 'get',
    combinedScriptId: null,
  };

  it('runs test and set to enforce, test to audit, get to monitor', () => {
    expect(steps(taskScripts(separate, { state: 'enforced' }, true).scripts)).toEqual([
      'test:test',
      'set:set',
    ]);
    expect(steps(taskScripts(separate, { state: 'audited' }, true).scripts)).toEqual(['test:test']);
    expect(steps(taskScripts(separate, { state: 'monitored' }, true).scripts)).toEqual(['get:get']);
  });

  it('uses one combined script for every method, told which by parameter', () => {
    const combined: TaskScriptIds = {
      testScriptId: null,
      setScriptId: null,
      getScriptId: null,
      combinedScriptId: 'all',
    };
    expect(taskScripts(combined, { state: 'enforced' }, true).scripts).toEqual([
      { step: 'test', scriptId: 'all', methodParameter: true },
      { step: 'set', scriptId: 'all', methodParameter: true },
    ]);
  });

  it('names the method a task lacks for its mode; detection alone does not need the set script', () => {
    const testOnly: TaskScriptIds = { ...separate, setScriptId: null, getScriptId: null };
    expect(taskScripts(testOnly, { state: 'enforced' }, true).missing).toEqual(['set']);
    expect(taskScripts(testOnly, { state: 'enforced' }, false).missing).toEqual([]);
    expect(taskScripts(testOnly, { state: 'monitored' }, false).missing).toEqual(['get']);
  });
});

describe('desired version', () => {
  const versions = [{ version: '2.9' }, { version: '2.10' }, { version: 'nightly' }, { version: '1.0' }];

  it('is the newest version by number for the states that install or update, whatever the list order', () => {
    expect(newestVersion(versions)).toBe('2.10');
    for (const state of ['installed-latest', 'installed-any', 'update-if-found'] as const)
      expect(desiredVersionOf({ state }, versions)).toBe('2.10');
  });

  it('is an opaque version only when the catalog lists nothing numeric', () => {
    expect(newestVersion([{ version: '2024-R1' }, { version: 'nightly' }])).toBe('nightly');
  });

  it('is the pinned version when pinned, and none to uninstall or when the catalog lists no versions', () => {
    expect(desiredVersionOf({ state: 'installed-version', version: '1.0' }, versions)).toBe('1.0');
    expect(desiredVersionOf({ state: 'uninstalled' }, versions)).toBeNull();
    expect(desiredVersionOf({ state: 'installed-latest' }, [])).toBeNull();
  });
});
