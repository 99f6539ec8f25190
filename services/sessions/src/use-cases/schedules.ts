import { randomUUID } from 'node:crypto';
import { authorize, tenantScopeOf } from '@converge/access';
import type { Principal } from '@converge/auth';
import { ConflictError, ForbiddenError, ValidationError } from '@converge/errors';
import { allTenants, asTenantId, type Page, type PageRequest } from '@converge/store';
import type { Logger } from '@converge/telemetry';
import type { ComputerDocument } from '../data-access/computer.repository.ts';
import type {
  ScheduleDocument,
  ScheduleListFilter,
  ScheduleRepository,
  ScheduleSettings,
} from '../data-access/schedule.repository.ts';
import type { SessionStatus } from '../domain/maintenance-session.ts';
import {
  compileTiming,
  computerSessionTimes,
  decideDue,
  occurrenceAfter,
  occurrencesAfter,
  sessionKindOf,
  timingProblems,
  type Occurrence,
  type OccurrenceKind,
  type OfflineBehavior,
  type RebootPreference,
  type ScheduleTarget,
  type ScheduleTiming,
} from '../domain/schedule.ts';
import { derivedSessionId } from './computer-changes.ts';
import type { SessionStart } from './session-commands.ts';
import { sessionAgentOf, startsPerSend, type TriggerDeps } from './session-triggers.ts';

export interface ScheduleDeps extends TriggerDeps {
  schedules: ScheduleRepository;
  logger: Logger;
  clock: () => number;
}

export interface ScheduleInput {
  name: string;
  enabled?: boolean;
  target: ScheduleTarget;
  maintenanceItemId?: string | null;
  cron: string;
  detectionCron?: string | null;
  timeZone: string;
  perComputerLocalTime?: boolean;
  maintenanceWindowMinutes?: number;
  offlineBehavior?: OfflineBehavior;
  rebootPreference?: RebootPreference;
}

export type SchedulePatch = Partial<ScheduleInput> & { version: number };

// How long a replica may take to start an occurrence's sessions before another one takes the firing over.
const firingLeaseMs = 60_000;
const dueBatch = 100;
// Edits retried when a firing wrote the schedule between their read and their write.
const maxChangeAttempts = 10;
const unfinishedStatuses: readonly SessionStatus[] = [
  'created',
  'pending',
  'pending-connectivity',
  'running',
  'postponed',
];

function timingOf(settings: ScheduleSettings): ScheduleTiming {
  const { cron, detectionCron, timeZone, perComputerLocalTime, maintenanceWindowMinutes, offlineBehavior } =
    settings;
  return { cron, detectionCron, timeZone, perComputerLocalTime, maintenanceWindowMinutes, offlineBehavior };
}

/**
 * Who may change a schedule: tenant admins and MSP admins inside a tenant (`manage-schedules`); a cross-tenant
 * schedule (no tenant) starts sessions in every tenant, so it also takes the right to manage cross-tenant
 * deployments, which only MSP admins have.
 */
function authorizeManage(principal: Principal, tenantId: string | null): void {
  if (tenantId !== null) {
    authorize(principal, 'manage-schedules', tenantId);
    return;
  }
  authorize(principal, 'manage-schedules');
  authorize(principal, 'manage-cross-tenant-deployments');
  if (tenantScopeOf(principal) !== allTenants)
    throw new ForbiddenError('only MSP users manage cross-tenant schedules');
}

/**
 * The tenant a target lies in: all computers is cross-tenant (null); listed computers lie in their tenant, or
 * are cross-tenant when they span several. Listed computers must be known (to the caller) and not deleted.
 */
async function tenantOfTarget(
  deps: ScheduleDeps,
  principal: Principal,
  target: ScheduleTarget,
): Promise<string | null> {
  switch (target.kind) {
    case 'all-computers':
      return null;
    case 'tenant':
      return target.tenantId;
    case 'computers': {
      const found = await deps.computers.maintainable(tenantScopeOf(principal), target.computerIds);
      const known = new Set(found.map((computer) => computer._id));
      const unknown = target.computerIds.filter((id) => !known.has(id));
      if (unknown.length > 0) {
        throw new ValidationError('the schedule is not valid', [
          { path: '/body/target/computerIds', message: `unknown computers: ${unknown.join(', ')}` },
        ]);
      }
      const tenants = new Set(found.map((computer) => computer.tenantId));
      const [only] = tenants;
      return tenants.size === 1 && only !== undefined ? only : null;
    }
  }
}

function nextRun(
  settings: ScheduleSettings,
  now: number,
): Pick<ScheduleDocument, 'nextRunAt' | 'nextRunKind'> {
  const next = occurrenceAfter(compileTiming(timingOf(settings)), now);
  return { nextRunAt: next === null ? null : new Date(next.at), nextRunKind: next?.kind ?? null };
}

async function settingsOf(
  deps: ScheduleDeps,
  principal: Principal,
  input: ScheduleInput,
): Promise<ScheduleSettings> {
  const settings: Omit<ScheduleSettings, 'tenantId'> = {
    name: input.name,
    enabled: input.enabled ?? true,
    target: input.target,
    maintenanceItemId: input.maintenanceItemId ?? null,
    cron: input.cron,
    detectionCron: input.detectionCron ?? null,
    timeZone: input.timeZone,
    perComputerLocalTime: input.perComputerLocalTime ?? false,
    maintenanceWindowMinutes: input.maintenanceWindowMinutes ?? 120,
    offlineBehavior: input.offlineBehavior ?? 'skip',
    rebootPreference: input.rebootPreference ?? 'normal',
  };
  const problems = timingProblems({ ...settings });
  if (problems.length > 0) throw new ValidationError('the schedule is not valid', problems);
  const tenantId = await tenantOfTarget(deps, principal, input.target);
  authorizeManage(principal, tenantId);
  return { ...settings, tenantId };
}

export async function createSchedule(
  deps: ScheduleDeps,
  principal: Principal,
  input: ScheduleInput,
): Promise<ScheduleDocument> {
  const settings = await settingsOf(deps, principal, input);
  const now = deps.clock();
  const next = nextRun(settings, now);
  return deps.schedules.insert({
    _id: randomUUID(),
    ...settings,
    ...next,
    firing: null,
    wakeAt: settings.enabled ? next.nextRunAt : null,
    lastFiredAt: null,
    lastSkipped: null,
    version: 1,
    settingsVersion: 1,
    createdAt: new Date(now),
    updatedAt: new Date(now),
  });
}

export function listSchedules(
  deps: ScheduleDeps,
  principal: Principal,
  filter: ScheduleListFilter,
  page: PageRequest,
): Promise<Page<ScheduleDocument>> {
  authorize(principal, 'read');
  return deps.schedules.list(tenantScopeOf(principal), filter, page);
}

export function getSchedule(deps: ScheduleDeps, principal: Principal, id: string): Promise<ScheduleDocument> {
  authorize(principal, 'read');
  return deps.schedules.get(tenantScopeOf(principal), id);
}

/**
 * Reads the schedule to change and checks the caller may change it and read the settings version it
 * changes, then applies `change`. A firing that wrote the schedule in between (it moves the next occurrence
 * on, not the settings) is no conflict for the caller: the change is decided again on the fresh schedule.
 */
async function changeSchedule<T>(
  deps: ScheduleDeps,
  principal: Principal,
  id: string,
  settingsVersion: number,
  change: (current: ScheduleDocument) => Promise<T | undefined>,
): Promise<T> {
  for (let attempt = 0; attempt < maxChangeAttempts; attempt++) {
    const current = await getSchedule(deps, principal, id);
    authorizeManage(principal, current.tenantId);
    if (current.settingsVersion !== settingsVersion) {
      throw new ConflictError(
        `the schedule changed since version ${String(settingsVersion)}; reload and retry`,
      );
    }
    try {
      const result = await change(current);
      if (result !== undefined) return result;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  throw new ConflictError('the schedule kept changing; retry');
}

/**
 * Changes what is given, authorized against the schedule as it is and as it becomes. A change of timing,
 * or enabling the schedule, waits for the next occurrence from now: nothing missed while disabled is fired.
 */
export async function updateSchedule(
  deps: ScheduleDeps,
  principal: Principal,
  id: string,
  patch: SchedulePatch,
): Promise<ScheduleDocument> {
  const { version, ...changes } = patch;
  return changeSchedule(deps, principal, id, version, async (current) => {
    const settings = await settingsOf(deps, principal, { ...current, ...changes });
    const now = deps.clock();
    const timingChanged = JSON.stringify(timingOf(settings)) !== JSON.stringify(timingOf(current));
    const next =
      timingChanged || (settings.enabled && !current.enabled)
        ? nextRun(settings, now)
        : { nextRunAt: current.nextRunAt, nextRunKind: current.nextRunKind };
    return deps.schedules.update(current, settings, next, new Date(now));
  });
}

/** Deletes the schedule; sessions it started run on (cancel them first to stop them). */
export async function deleteSchedule(
  deps: ScheduleDeps,
  principal: Principal,
  id: string,
  version: number,
): Promise<void> {
  await changeSchedule(deps, principal, id, version, async (current) =>
    (await deps.schedules.delete(current)) ? true : undefined,
  );
}

/** Cancels every session of the schedule that has not finished; answers how many were asked to stop. */
export async function cancelScheduleSessions(
  deps: ScheduleDeps,
  principal: Principal,
  id: string,
): Promise<{ cancelled: number }> {
  const schedule = await getSchedule(deps, principal, id);
  authorize(principal, 'run-sessions', schedule.tenantId ?? undefined);
  const scope = tenantScopeOf(principal);
  const reason = `cancelled with schedule ${schedule.name} by ${principal.name ?? principal.subject}`;
  let cancelled = 0;
  for (const status of unfinishedStatuses) {
    let cursor: string | undefined;
    do {
      const page = await deps.sessions.list(
        scope,
        { scheduleId: id, status },
        { limit: 200, ...(cursor === undefined ? {} : { cursor }) },
      );
      // The owners apply the cancels when they read them; a session that finished meanwhile stays as it is.
      await deps.commands.cancelAll(
        page.items.map((session) => ({ sessionId: session._id, tenantId: session.tenantId })),
        reason,
      );
      cancelled += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
  return { cancelled };
}

export interface ScheduledOccurrence extends Occurrence {
  sessionKind: ReturnType<typeof sessionKindOf>;
}

/** The schedule's next occurrences from now, for the dashboard's preview. */
export async function scheduleOccurrences(
  deps: ScheduleDeps,
  principal: Principal,
  id: string,
  count: number,
): Promise<ScheduledOccurrence[]> {
  const schedule = await getSchedule(deps, principal, id);
  return occurrencesAfter(compileTiming(timingOf(schedule)), deps.clock(), count).map((occurrence) => ({
    ...occurrence,
    sessionKind: sessionKindOf(occurrence.kind, schedule.maintenanceItemId),
  }));
}

/** The computers an occurrence is for, maintainable or not. */
function targetComputers(deps: ScheduleDeps, schedule: ScheduleDocument): Promise<ComputerDocument[]> {
  const scope = schedule.tenantId === null ? allTenants : asTenantId(schedule.tenantId);
  const { target } = schedule;
  switch (target.kind) {
    case 'all-computers':
      return deps.computers.maintainable(scope);
    case 'tenant':
      return deps.computers.maintainable(asTenantId(target.tenantId));
    case 'computers':
      return deps.computers.maintainable(scope, target.computerIds);
  }
}

export interface FiredOccurrence {
  scheduleId: string;
  occurrenceAt: number;
  kind: OccurrenceKind;
  late: boolean;
  started: number;
  /** Computers of the target that got no session: excluded from maintenance, or with no agent. */
  passedOver: number;
}

/**
 * Starts one session per maintainable computer of the target. The session id is derived from the schedule,
 * the occurrence and the computer, so a firing taken over after a crash, or done twice, starts nothing twice.
 */
async function startOccurrence(
  deps: ScheduleDeps,
  schedule: ScheduleDocument,
  firing: { at: number; kind: OccurrenceKind; late: boolean },
): Promise<FiredOccurrence> {
  const timing = timingOf(schedule);
  const kind = sessionKindOf(firing.kind, schedule.maintenanceItemId);
  const computers = await targetComputers(deps, schedule);
  const fired: FiredOccurrence = {
    scheduleId: schedule._id,
    occurrenceAt: firing.at,
    kind: firing.kind,
    late: firing.late,
    started: 0,
    passedOver: 0,
  };
  const starts: SessionStart[] = [];
  for (const computer of computers) {
    const agent = sessionAgentOf(computer);
    if ('reason' in agent) {
      fired.passedOver++;
      continue;
    }
    // The computer projection has no time zone yet, so each computer keeps the schedule's.
    const times = computerSessionTimes(timing, firing, null, deps.clock());
    starts.push({
      sessionId: derivedSessionId(`schedule:${schedule._id}:${String(firing.at)}:${computer._id}`),
      tenantId: computer.tenantId,
      computerId: computer._id,
      agentId: agent.agentId,
      kind,
      trigger: 'schedule',
      maintenanceItemId: schedule.maintenanceItemId,
      scheduleId: schedule._id,
      startAt: times.startAt,
      notAfter: times.notAfter,
    });
  }
  // A firing taken over after a crash sends every start again (the owners start each session once), but counts
  // only the sessions it started.
  const existing = await deps.sessions.existing(starts.map((start) => start.sessionId));
  for (let from = 0; from < starts.length; from += startsPerSend) {
    await deps.commands.start(starts.slice(from, from + startsPerSend));
  }
  fired.started = starts.filter((start) => !existing.has(start.sessionId)).length;
  return fired;
}

/**
 * Claims a due schedule's occurrence and starts its sessions. The claim moves `nextRunAt` on in one
 * conditional single-document update (the fence) and records the firing under a lease; only the replica whose
 * claim matched starts sessions, and a firing whose replica died before finishing is taken over once its lease
 * has passed.
 */
async function fireSchedule(deps: ScheduleDeps, id: string, now: number): Promise<FiredOccurrence | null> {
  const schedule = await deps.schedules.find(id);
  if (schedule === null || schedule.wakeAt === null || schedule.wakeAt.getTime() > now) return null;
  const leaseUntil = new Date(now + firingLeaseMs);
  if (schedule.firing !== null) {
    const { occurrenceAt, kind, late } = schedule.firing;
    const claimed = await deps.schedules.claim(
      schedule,
      {
        nextRunAt: schedule.nextRunAt,
        nextRunKind: schedule.nextRunKind,
        firing: { ...schedule.firing, leaseUntil },
      },
      new Date(now),
    );
    if (claimed === null) return null;
    deps.logger.warn(
      { scheduleId: id, occurrenceAt },
      'taking over a firing whose replica did not finish it',
    );
    const fired = await startOccurrence(deps, claimed, { at: occurrenceAt.getTime(), kind, late });
    await deps.schedules.finishFiring(id, occurrenceAt, new Date(deps.clock()));
    return fired;
  }
  if (schedule.nextRunAt === null || schedule.nextRunKind === null) return null;
  const due = { at: schedule.nextRunAt.getTime(), kind: schedule.nextRunKind };
  const decision = decideDue(compileTiming(timingOf(schedule)), due, now);
  const { fire, skipped, next } = decision;
  const claimed = await deps.schedules.claim(
    schedule,
    {
      nextRunAt: next === null ? null : new Date(next.at),
      nextRunKind: next?.kind ?? null,
      firing:
        fire === null
          ? null
          : { occurrenceAt: new Date(fire.at), kind: fire.kind, late: fire.late, leaseUntil },
      ...(skipped === null ? {} : { lastSkipped: { at: new Date(skipped.at), reason: skipped.reason } }),
    },
    new Date(now),
  );
  if (claimed === null || fire === null) {
    if (claimed !== null && skipped !== null) {
      deps.logger.info(
        { scheduleId: id, occurrenceAt: new Date(skipped.at) },
        `occurrence skipped: ${skipped.reason}`,
      );
    }
    return null;
  }
  const fired = await startOccurrence(deps, claimed, fire);
  await deps.schedules.finishFiring(id, new Date(fire.at), new Date(deps.clock()));
  return fired;
}

/** Fires every schedule due at `now`; one schedule's failure is logged and does not hold the others back. */
export async function fireDueSchedules(deps: ScheduleDeps, now: number): Promise<FiredOccurrence[]> {
  const fired: FiredOccurrence[] = [];
  for (const id of await deps.schedules.due(new Date(now), dueBatch)) {
    try {
      const occurrence = await fireSchedule(deps, id, now);
      if (occurrence === null) continue;
      fired.push(occurrence);
      deps.logger.info(occurrence, 'schedule fired');
    } catch (error) {
      deps.logger.error(
        { err: error, scheduleId: id },
        'schedule could not be fired; retried on a later tick',
      );
    }
  }
  return fired;
}

/** Looks for due schedules every `intervalMs` until stopped; `stop` waits for the tick under way. */
export function startScheduleTicker(
  deps: ScheduleDeps,
  options: { intervalMs: number; logger: Logger },
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    running = fireDueSchedules(deps, deps.clock()).then(
      () => undefined,
      (error: unknown) => {
        options.logger.error({ err: error }, 'schedule tick failed');
      },
    );
    void running.then(() => {
      if (!stopped) timer = setTimeout(tick, options.intervalMs);
    });
  };
  timer = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
