import { describe, expect, it } from '@jest/globals';
import { noAffinity, primaryPerson, recordLoggedOnUpns, type UserAffinity } from './user-affinity.ts';

const people = new Map([
  ['ann@contoso.com', 'person-ann'],
  ['bob@contoso.com', 'person-bob'],
]);
const context = {
  personIdByUpn: people,
  lastSeenAt: '2026-11-20T08:00:00Z',
  now: '2026-11-23T08:00:00Z',
  staleAfterDays: 30,
};
const history = (...upns: string[]): UserAffinity => ({ ...noAffinity, recentUpns: upns });

describe('recording logged-on UPNs', () => {
  it('keeps only the last 10 UPNs seen, lower-cased, each once per report', () => {
    let affinity = noAffinity;
    for (let i = 0; i < 12; i++) affinity = recordLoggedOnUpns(affinity, [`User${i}@Contoso.com`]);
    affinity = recordLoggedOnUpns(affinity, ['ann@contoso.com', 'ANN@contoso.com']);
    expect(affinity.recentUpns).toHaveLength(10);
    expect(affinity.recentUpns[0]).toBe('user3@contoso.com');
    expect(affinity.recentUpns.at(-1)).toBe('ann@contoso.com');
    expect(affinity.recentUpns.at(-2)).toBe('user11@contoso.com');
  });

  it('leaves the history unchanged when nobody is logged on', () => {
    const affinity = history('ann@contoso.com');
    expect(recordLoggedOnUpns(affinity, [])).toBe(affinity);
  });
});

describe('primary person', () => {
  it('is the person seen most often in the history', () => {
    const affinity = history(
      'bob@contoso.com',
      'ann@contoso.com',
      'ann@contoso.com',
      'bob@contoso.com',
      'ann@contoso.com',
    );
    expect(primaryPerson(affinity, context)).toEqual({
      kind: 'inferred',
      personId: 'person-ann',
      upn: 'ann@contoso.com',
    });
  });

  it('is the most recently seen of equally frequent people', () => {
    const affinity = history('ann@contoso.com', 'bob@contoso.com', 'bob@contoso.com', 'ann@contoso.com');
    expect(primaryPerson(affinity, context)).toMatchObject({ personId: 'person-ann' });
    expect(
      primaryPerson(history('bob@contoso.com', 'ann@contoso.com', 'bob@contoso.com'), context),
    ).toMatchObject({
      personId: 'person-bob',
    });
  });

  it('ignores UPNs that match no person in the directory', () => {
    const affinity = history('admin@msp.com', 'admin@msp.com', 'admin@msp.com', 'bob@contoso.com');
    expect(primaryPerson(affinity, context)).toMatchObject({ kind: 'inferred', personId: 'person-bob' });
    expect(primaryPerson(history('admin@msp.com'), context)).toEqual({
      kind: 'none',
      reason: 'no-matching-person',
    });
  });

  it('is the pinned person whatever the history says', () => {
    const affinity = { ...history('bob@contoso.com'), pinnedPersonId: 'person-carol' };
    expect(primaryPerson(affinity, context)).toEqual({ kind: 'pinned', personId: 'person-carol' });
  });

  it('is nobody on an excluded computer, even when pinned', () => {
    const affinity = { ...history('bob@contoso.com'), pinnedPersonId: 'person-bob', excluded: true };
    expect(primaryPerson(affinity, context)).toEqual({ kind: 'none', reason: 'excluded' });
  });

  it('is nobody once the computer has been offline longer than the stale period', () => {
    const stale = { ...context, lastSeenAt: '2026-10-23T07:59:59Z' };
    expect(primaryPerson(history('bob@contoso.com'), stale)).toEqual({ kind: 'none', reason: 'stale' });
    const justInTime = { ...context, lastSeenAt: '2026-10-24T08:00:00Z' };
    expect(primaryPerson(history('bob@contoso.com'), justInTime)).toMatchObject({ kind: 'inferred' });
  });
});
