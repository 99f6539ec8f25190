import { describe, expect, it } from '@jest/globals';
import { GroupCommit } from './group-commit.ts';

describe('group commit', () => {
  it('flushes the jobs of one turn together, and those that come during a flush in the next one', async () => {
    const flushes: number[][] = [];
    let release: () => void = () => undefined;
    const commits = new GroupCommit<number, string>(async (jobs) => {
      flushes.push(jobs);
      if (flushes.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return jobs.map((job) => `done ${job}`);
    });
    const first = [commits.commit(1), commits.commit(2)];
    await new Promise((resolve) => setImmediate(resolve));
    const during = [commits.commit(3), commits.commit(4), commits.commit(5)];
    expect(flushes).toEqual([[1, 2]]);
    release();
    expect(await Promise.all([...first, ...during])).toEqual([
      'done 1',
      'done 2',
      'done 3',
      'done 4',
      'done 5',
    ]);
    expect(flushes).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
  });

  it('fails every job of a failed flush and goes on with the next ones', async () => {
    let fail = true;
    const commits = new GroupCommit<number, number>((jobs) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error('store unreachable'));
      }
      return Promise.resolve(jobs);
    });
    const failed = [commits.commit(1), commits.commit(2)];
    await expect(failed[0]).rejects.toThrow('store unreachable');
    await expect(failed[1]).rejects.toThrow('store unreachable');
    await expect(commits.commit(3)).resolves.toBe(3);
  });
});
