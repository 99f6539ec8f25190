import { describe, expect, it } from '@jest/globals';
import {
  compileTiming,
  computerSessionTimes,
  decideDue,
  occurrenceAfter,
  occurrencesAfter,
  sameWallClockIn,
  sessionKindOf,
  timingProblems,
  type ScheduleTiming,
} from './schedule.ts';

const ms = (iso: string) => Date.parse(iso);
const iso = (at: number) => new Date(at).toISOString();
const minute = 60_000;

function timing(fields: Partial<ScheduleTiming> = {}): ScheduleTiming {
  return {
    cron: '30 2 * * *',
    detectionCron: null,
    timeZone: 'Europe/Amsterdam',
    perComputerLocalTime: false,
    maintenanceWindowMinutes: 120,
    offlineBehavior: 'skip',
    ...fields,
  };
}

describe('schedule occurrences', () => {
  it('on the day clocks go forward in Amsterdam, 02:30 does not exist and the occurrence runs once at 03:30', () => {
    const compiled = compileTiming(timing());
    const runs = occurrencesAfter(compiled, ms('2025-03-29T12:00:00Z'), 3).map((occurrence) =>
      iso(occurrence.at),
    );
    // 03:30 CEST, then 02:30 CEST on the following days.
    expect(runs).toEqual([
      '2025-03-30T01:30:00.000Z',
      '2025-03-31T00:30:00.000Z',
      '2025-04-01T00:30:00.000Z',
    ]);
  });

  it('on the day clocks go back in Amsterdam, 02:30 happens twice but the schedule fires once', () => {
    const compiled = compileTiming(timing());
    const runs = occurrencesAfter(compiled, ms('2025-10-25T12:00:00Z'), 2).map((occurrence) =>
      iso(occurrence.at),
    );
    expect(runs).toEqual(['2025-10-26T01:30:00.000Z', '2025-10-27T01:30:00.000Z']);
  });

  it('keeps the local time of day across the change, so the UTC time moves by an hour', () => {
    const compiled = compileTiming(timing({ cron: '0 3 * * *' }));
    const runs = occurrencesAfter(compiled, ms('2025-03-29T00:00:00Z'), 2).map((occurrence) =>
      iso(occurrence.at),
    );
    expect(runs).toEqual(['2025-03-29T02:00:00.000Z', '2025-03-30T01:00:00.000Z']);
  });

  it('interleaves detection-only occurrences with full ones, and a full one wins when both fall together', () => {
    const compiled = compileTiming(
      timing({ cron: '0 22 * * *', detectionCron: '0 10,22 * * *', timeZone: 'UTC' }),
    );
    const runs = occurrencesAfter(compiled, ms('2025-06-01T00:00:00Z'), 3);
    expect(runs).toEqual([
      { at: ms('2025-06-01T10:00:00Z'), kind: 'detection' },
      { at: ms('2025-06-01T22:00:00Z'), kind: 'full' },
      { at: ms('2025-06-02T10:00:00Z'), kind: 'detection' },
    ]);
  });

  it('understands seconds, so a schedule can fire every second', () => {
    const compiled = compileTiming(timing({ cron: '* * * * * *', timeZone: 'UTC' }));
    expect(occurrenceAfter(compiled, ms('2025-01-01T00:00:00.400Z'))).toEqual({
      at: ms('2025-01-01T00:00:01Z'),
      kind: 'full',
    });
  });

  it('refuses an unknown zone, an offset posing as a zone, a malformed expression and one that never matches', () => {
    expect(timingProblems(timing())).toEqual([]);
    expect(timingProblems(timing({ timeZone: 'Mars/Olympus' }))[0]?.path).toBe('/body/timeZone');
    expect(timingProblems(timing({ timeZone: '+02:00' }))[0]?.path).toBe('/body/timeZone');
    expect(timingProblems(timing({ cron: '0 2 * *' })).map((problem) => problem.path)).toEqual([
      '/body/cron',
    ]);
    expect(timingProblems(timing({ cron: '0 0 30 2 *' }))[0]?.message).toMatch(/never/);
    expect(timingProblems(timing({ detectionCron: '61 * * * *' })).map((problem) => problem.path)).toEqual([
      '/body/detectionCron',
    ]);
  });

  it('names the session kind: full, single item, or detection only', () => {
    expect(sessionKindOf('full', null)).toBe('full');
    expect(sessionKindOf('full', 'reader')).toBe('single-item');
    expect(sessionKindOf('detection', 'reader')).toBe('detection-only');
  });
});

describe('firing a due occurrence and catching up', () => {
  const daily = compileTiming(timing({ cron: '0 2 * * *', timeZone: 'UTC', maintenanceWindowMinutes: 60 }));
  const due = { at: ms('2025-06-01T02:00:00Z'), kind: 'full' as const };

  it('leaves an occurrence that has not come yet', () => {
    expect(decideDue(daily, due, due.at - 1)).toEqual({ fire: null, skipped: null, next: due });
  });

  it('fires an occurrence inside its window and waits for the following one', () => {
    const decision = decideDue(daily, due, due.at + 30 * minute);
    expect(decision.fire).toEqual({ ...due, late: false });
    expect(decision.next).toEqual({ at: ms('2025-06-02T02:00:00Z'), kind: 'full' });
  });

  it('after an outage of days, fires only the latest occurrence when it is still inside its window', () => {
    const decision = decideDue(daily, due, ms('2025-06-04T02:10:00Z'));
    expect(decision.fire).toEqual({ at: ms('2025-06-04T02:00:00Z'), kind: 'full', late: false });
    expect(decision.skipped).toBeNull();
    expect(decision.next?.at).toBe(ms('2025-06-05T02:00:00Z'));
  });

  it('skips an occurrence missed by more than the window when the schedule skips offline computers', () => {
    const decision = decideDue(daily, due, ms('2025-06-03T12:00:00Z'));
    expect(decision.fire).toBeNull();
    expect(decision.skipped?.at).toBe(due.at);
    expect(decision.next?.at).toBe(ms('2025-06-04T02:00:00Z'));
  });

  it('fires one late catch-up for every occurrence missed when the schedule applies on connect', () => {
    const onConnect = compileTiming({ ...daily.timing, offlineBehavior: 'apply-on-connect' });
    const now = ms('2025-06-03T12:00:00Z');
    const decision = decideDue(onConnect, due, now);
    expect(decision.fire).toEqual({ ...due, late: true });
    expect(decision.next?.at).toBe(ms('2025-06-04T02:00:00Z'));
    expect(computerSessionTimes(onConnect.timing, { ...due, late: true }, null, now)).toEqual({
      startAt: now,
      notAfter: null,
    });
  });

  it('never leaves a second occurrence due, even for a schedule that fires every second', () => {
    const everySecond = compileTiming(
      timing({ cron: '* * * * * *', timeZone: 'UTC', maintenanceWindowMinutes: 5 }),
    );
    const now = ms('2025-06-01T00:10:00.300Z');
    const decision = decideDue(everySecond, { at: ms('2025-06-01T00:00:00Z'), kind: 'full' }, now);
    expect(decision.fire).toEqual({ at: ms('2025-06-01T00:10:00Z'), kind: 'full', late: false });
    expect(decision.next?.at).toBeGreaterThan(now);
  });
});

describe('per-computer local time', () => {
  const occurrence = { at: ms('2025-06-01T00:00:00Z'), kind: 'full' as const, late: false }; // 02:00 in Amsterdam
  const local = timing({ cron: '0 2 * * *', perComputerLocalTime: true, maintenanceWindowMinutes: 60 });

  it("starts a computer west of the schedule's zone at 02:00 on its own clock", () => {
    const times = computerSessionTimes(local, occurrence, 'America/New_York', occurrence.at);
    expect(iso(times.startAt)).toBe('2025-06-01T06:00:00.000Z');
    expect(times.notAfter).toBe(times.startAt + 60 * minute);
  });

  it('starts a computer whose local time has already passed at once, and one with no known zone at the schedule time', () => {
    expect(computerSessionTimes(local, occurrence, 'Asia/Tokyo', occurrence.at).startAt).toBe(occurrence.at);
    expect(computerSessionTimes(local, occurrence, null, occurrence.at).startAt).toBe(occurrence.at);
  });

  it('ignores the computer zone unless the schedule asks for local time', () => {
    const times = computerSessionTimes(
      { ...local, perComputerLocalTime: false },
      occurrence,
      'America/New_York',
      0,
    );
    expect(times).toEqual({ startAt: occurrence.at, notAfter: occurrence.at + 60 * minute });
  });

  it('leaves the window open when the schedule applies on connect', () => {
    const onConnect = { ...local, offlineBehavior: 'apply-on-connect' as const };
    expect(
      computerSessionTimes(onConnect, occurrence, 'America/New_York', occurrence.at).notAfter,
    ).toBeNull();
  });

  it("moves a wall-clock time the computer's zone skips (clocks going forward) an hour on", () => {
    // 02:30 on 9 March 2025 in UTC (no change) does not exist in New York, where clocks jump from 02:00 to 03:00.
    const at = sameWallClockIn(ms('2025-03-09T02:30:00Z'), 'UTC', 'America/New_York');
    expect(iso(at)).toBe('2025-03-09T07:30:00.000Z'); // 03:30 EDT
  });
});
