import { Cron } from 'croner';
import type { SessionKind } from './maintenance-session.ts';

/**
 * A maintenance schedule's rules: when its occurrences fall, what each occurrence starts, and what happens to
 * an occurrence the service could not fire in time. Pure: times are epoch milliseconds passed in; croner (a
 * maintained cron library) reads the expressions and time zones.
 */

export const offlineBehaviors = ['skip', 'apply-on-connect'] as const;
export type OfflineBehavior = (typeof offlineBehaviors)[number];

/** Stored and shown; sessions do not reboot computers yet, so no preference changes what a session does. */
export const rebootPreferences = ['normal', 'suppress', 'force', 'prompt'] as const;
export type RebootPreference = (typeof rebootPreferences)[number];

export type ScheduleTarget =
  | { kind: 'all-computers' }
  | { kind: 'tenant'; tenantId: string }
  | { kind: 'computers'; computerIds: string[] };

/** A detection occurrence (of `detectionCron`) runs detection only; a full one (of `cron`) the whole session. */
export type OccurrenceKind = 'full' | 'detection';

export interface Occurrence {
  at: number;
  kind: OccurrenceKind;
}

export interface ScheduleTiming {
  cron: string;
  /** Detection-only sessions at these times, full sessions at `cron`; null: full sessions only. */
  detectionCron: string | null;
  /** IANA zone the expressions are read in. */
  timeZone: string;
  /** Read each occurrence's wall-clock time in the computer's own zone (see `computerSessionTimes`). */
  perComputerLocalTime: boolean;
  maintenanceWindowMinutes: number;
  offlineBehavior: OfflineBehavior;
}

export interface TimingProblem {
  path: string;
  message: string;
}

const maxOccurrencesScanned = 200;
// Two zones' wall clocks are at most 26 hours apart (UTC-12 to UTC+14).
const widestZoneGapMs = 27 * 3_600_000;

/** An IANA name (`Europe/Amsterdam`, `UTC`) the runtime knows; offsets such as `+02:00` are not zones. */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function cronProblem(expression: string, timeZone: string): string | null {
  try {
    const next = new Cron(expression, { timezone: timeZone }).nextRun(new Date(0));
    return next === null ? 'the expression never matches a date' : null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Why the timing cannot be stored; empty when it can. */
export function timingProblems(timing: ScheduleTiming): TimingProblem[] {
  if (!isTimeZone(timing.timeZone)) {
    return [{ path: '/body/timeZone', message: `${timing.timeZone} is not an IANA time zone` }];
  }
  const problems: TimingProblem[] = [];
  const full = cronProblem(timing.cron, timing.timeZone);
  if (full !== null) problems.push({ path: '/body/cron', message: full });
  if (timing.detectionCron !== null) {
    const detection = cronProblem(timing.detectionCron, timing.timeZone);
    if (detection !== null) problems.push({ path: '/body/detectionCron', message: detection });
  }
  return problems;
}

/** The timing's expressions, read once for a run of look-ups. */
export interface CompiledTiming {
  timing: ScheduleTiming;
  full: Cron;
  detection: Cron | null;
}

export function compileTiming(timing: ScheduleTiming): CompiledTiming {
  const options = { timezone: timing.timeZone };
  return {
    timing,
    full: new Cron(timing.cron, options),
    detection: timing.detectionCron === null ? null : new Cron(timing.detectionCron, options),
  };
}

/** The first occurrence strictly after `after`; a full occurrence wins over a detection one at the same time. */
export function occurrenceAfter(compiled: CompiledTiming, after: number): Occurrence | null {
  const from = new Date(after);
  const full = compiled.full.nextRun(from)?.getTime() ?? null;
  const detection = compiled.detection?.nextRun(from)?.getTime() ?? null;
  if (detection !== null && (full === null || detection < full)) return { at: detection, kind: 'detection' };
  return full === null ? null : { at: full, kind: 'full' };
}

/** The next `count` occurrences after `after`: the dashboard's preview. */
export function occurrencesAfter(compiled: CompiledTiming, after: number, count: number): Occurrence[] {
  const occurrences: Occurrence[] = [];
  let next = occurrenceAfter(compiled, after);
  while (next !== null && occurrences.length < count) {
    occurrences.push(next);
    next = occurrenceAfter(compiled, next.at);
  }
  return occurrences;
}

/**
 * The latest occurrence in `[from, now]`, or null. It looks back from `now` over a doubling span, so an
 * expression firing every second costs a few look-ups, not one per second of the span.
 */
function latestBetween(compiled: CompiledTiming, from: number, now: number): Occurrence | null {
  for (let back = 1_000; ; back *= 2) {
    const start = Math.max(from, now - back);
    let latest = occurrenceAfter(compiled, start - 1);
    if (latest !== null && latest.at <= now) {
      for (let scanned = 0; scanned < maxOccurrencesScanned; scanned++) {
        const following = occurrenceAfter(compiled, latest.at);
        if (following === null || following.at > now) break;
        latest = following;
      }
      return latest;
    }
    if (start === from) return null;
  }
}

/** What the ticker does with a schedule whose next occurrence has come. */
export interface DueDecision {
  /** The one occurrence to start sessions for; `late` when it is fired after its window (apply on connect). */
  fire: (Occurrence & { late: boolean }) | null;
  /** An occurrence that starts nothing, and why. */
  skipped: { at: number; reason: string } | null;
  /** The occurrence to wait for next: always after `now`, so one decision never leaves a second one due. */
  next: Occurrence | null;
}

/**
 * Decides a due occurrence. The latest occurrence that has come is the one considered (earlier ones the
 * service slept through are passed over: a schedule never fires more than one missed occurrence). Inside its
 * maintenance window it fires; missed by more than the window, it fires late if the schedule applies on
 * connect, and is skipped otherwise. The late catch-up stands for every occurrence missed since `due.at`, and
 * carries that occurrence's time.
 */
export function decideDue(compiled: CompiledTiming, due: Occurrence, now: number): DueDecision {
  if (due.at > now) return { fire: null, skipped: null, next: due };
  const windowMs = compiled.timing.maintenanceWindowMinutes * 60_000;
  const next = occurrenceAfter(compiled, now);
  const inWindow = latestBetween(compiled, Math.max(due.at, now - windowMs), now);
  if (inWindow !== null) return { fire: { ...inWindow, late: false }, skipped: null, next };
  if (compiled.timing.offlineBehavior === 'apply-on-connect') {
    return { fire: { ...due, late: true }, skipped: null, next };
  }
  const reason = 'missed by more than the maintenance window while the service was unavailable';
  return { fire: null, skipped: { at: due.at, reason }, next };
}

/** The session kind an occurrence starts. */
export function sessionKindOf(
  kind: OccurrenceKind,
  maintenanceItemId: string | null,
): Exclude<SessionKind, 'onboarding'> {
  if (kind === 'detection') return 'detection-only';
  return maintenanceItemId === null ? 'full' : 'single-item';
}

const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

/** `at`'s calendar date and time of day in `timeZone`. */
function wallClock(
  at: number,
  timeZone: string,
): Record<'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  let format = wallClockFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    wallClockFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, Number(part.value)]));
  return {
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/**
 * The instant at which `computerTimeZone`'s clocks show the date and time the schedule's zone's clocks showed at
 * `at`. A time that does not exist there (the hour skipped when clocks go forward) moves on as croner moves a
 * cron time, to the same minute an hour later.
 */
export function sameWallClockIn(at: number, scheduleTimeZone: string, computerTimeZone: string): number {
  if (scheduleTimeZone === computerTimeZone) return at;
  const clock = wallClock(at, scheduleTimeZone);
  const pattern = `${String(clock.second)} ${String(clock.minute)} ${String(clock.hour)} ${String(clock.day)} ${String(clock.month)} *`;
  const found = new Cron(pattern, { timezone: computerTimeZone }).nextRun(new Date(at - widestZoneGapMs));
  return found?.getTime() ?? at;
}

/**
 * When one computer's session of an occurrence may start and by when it must have run. With per-computer
 * local time the occurrence's wall-clock time is read in the computer's zone; the ticker fires the
 * occurrence at the schedule's zone's time, so a computer whose local time comes later waits for it, and one
 * whose local time has already passed starts at once (choose the easternmost zone served as the schedule's
 * zone to make every computer wait for its own time). A computer whose zone is unknown keeps the schedule's.
 * `skip` closes the session's window at the computer's start plus the maintenance window (an offline
 * computer's session is missed); `apply-on-connect` leaves it open, and a late catch-up starts now.
 */
export function computerSessionTimes(
  timing: ScheduleTiming,
  occurrence: Occurrence & { late: boolean },
  computerTimeZone: string | null,
  now: number,
): { startAt: number; notAfter: number | null } {
  if (occurrence.late) return { startAt: now, notAfter: null };
  const local =
    timing.perComputerLocalTime && computerTimeZone !== null && isTimeZone(computerTimeZone)
      ? sameWallClockIn(occurrence.at, timing.timeZone, computerTimeZone)
      : occurrence.at;
  const startAt = Math.max(local, occurrence.at);
  const notAfter =
    timing.offlineBehavior === 'skip' ? startAt + timing.maintenanceWindowMinutes * 60_000 : null;
  return { startAt, notAfter };
}
