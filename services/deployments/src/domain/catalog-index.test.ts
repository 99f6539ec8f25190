import { describe, it, expect } from '@jest/globals';
import { indexCatalog, PrerequisiteCycleError } from './catalog-index.ts';
import { software } from './deployment.fixtures.ts';
import type { Prerequisite } from './types.ts';

function installs(...softwareIds: string[]): Prerequisite {
  return {
    condition: { when: 'not-installed', match: 'any-of', softwareIds },
    action: { kind: 'install', softwareIds },
  };
}

describe('catalog prerequisites', () => {
  it('rejects a cycle with an error naming every software on it', () => {
    const catalog = {
      software: [
        software('client', { name: '3CX Client', prerequisites: [installs('runtime')] }),
        software('runtime', { name: 'C++ Runtime', prerequisites: [installs('updater')] }),
        software('updater', { name: 'Updater', prerequisites: [installs('client')] }),
      ],
      maintenanceTasks: [],
    };
    expect(() => indexCatalog(catalog)).toThrow(
      'software prerequisites form a cycle: 3CX Client (client) -> C++ Runtime (runtime) -> Updater (updater) -> 3CX Client (client)',
    );
    try {
      indexCatalog(catalog);
    } catch (error) {
      expect(error).toBeInstanceOf(PrerequisiteCycleError);
      expect((error as PrerequisiteCycleError).cycle).toEqual(['client', 'runtime', 'updater', 'client']);
    }
  });

  it('rejects software that requires itself', () => {
    expect(() =>
      indexCatalog({ software: [software('a', { prerequisites: [installs('a')] })], maintenanceTasks: [] }),
    ).toThrow('a (a) -> a (a)');
  });

  it('accepts "uninstall the old edition first", which removes rather than depends', () => {
    const uninstallSelf: Prerequisite = {
      condition: { when: 'installed', match: 'any-of', softwareIds: ['a'] },
      action: { kind: 'uninstall', softwareIds: ['a'] },
    };
    expect(() =>
      indexCatalog({ software: [software('a', { prerequisites: [uninstallSelf] })], maintenanceTasks: [] }),
    ).not.toThrow();
  });

  it('accepts a diamond, where two software share a prerequisite', () => {
    const catalog = {
      software: [
        software('top', { prerequisites: [installs('left', 'right')] }),
        software('left', { prerequisites: [installs('base')] }),
        software('right', { prerequisites: [installs('base')] }),
        software('base'),
      ],
      maintenanceTasks: [],
    };
    expect(indexCatalog(catalog).software.size).toBe(4);
  });
});
