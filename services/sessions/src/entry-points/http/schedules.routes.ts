import type { Request, Router } from 'express';
import { principalOf } from '@converge/http';
import type { PageRequest } from '@converge/store';
import type { ScheduleDocument } from '../../data-access/schedule.repository.ts';
import {
  cancelScheduleSessions,
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  scheduleOccurrences,
  updateSchedule,
  type ScheduleDeps,
  type ScheduleInput,
  type SchedulePatch,
} from '../../use-cases/schedules.ts';

// The OpenAPI validator has checked the query (and may have coerced it to the described types); read it as text.
function query(req: Request, name: string): string | undefined {
  const value: unknown = req.query[name];
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'string' ? value : undefined;
}

function pageOf(req: Request): PageRequest {
  const limit = query(req, 'limit');
  const cursor = query(req, 'cursor');
  return {
    ...(limit === undefined ? {} : { limit: Number(limit) }),
    ...(cursor === undefined ? {} : { cursor }),
  };
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** A schedule as the API shows it: its settings, and when it fires next, fired last and skipped last. */
export function scheduleView(doc: ScheduleDocument) {
  return {
    id: doc._id,
    tenantId: doc.tenantId,
    name: doc.name,
    enabled: doc.enabled,
    target: doc.target,
    maintenanceItemId: doc.maintenanceItemId,
    cron: doc.cron,
    detectionCron: doc.detectionCron,
    timeZone: doc.timeZone,
    perComputerLocalTime: doc.perComputerLocalTime,
    maintenanceWindowMinutes: doc.maintenanceWindowMinutes,
    offlineBehavior: doc.offlineBehavior,
    rebootPreference: doc.rebootPreference,
    nextRunAt: iso(doc.nextRunAt),
    nextRunKind: doc.nextRunKind,
    lastFiredAt: iso(doc.lastFiredAt),
    lastSkipped:
      doc.lastSkipped === null
        ? null
        : { at: doc.lastSkipped.at.toISOString(), reason: doc.lastSkipped.reason },
    version: doc.settingsVersion,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

/** Maintenance schedules: settings, the next occurrences, and cancelling what a schedule started. */
export function scheduleRoutes(router: Router, deps: ScheduleDeps): void {
  router.post('/schedules', async (req, res) => {
    const doc = await createSchedule(deps, principalOf(res), req.body as ScheduleInput);
    res.status(201).json(scheduleView(doc));
  });
  router.get('/schedules', async (req, res) => {
    const tenantId = query(req, 'tenantId');
    const enabled = query(req, 'enabled');
    const filter = {
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(enabled === undefined ? {} : { enabled: enabled === 'true' }),
    };
    const page = await listSchedules(deps, principalOf(res), filter, pageOf(req));
    res.json({ items: page.items.map(scheduleView), nextCursor: page.nextCursor });
  });
  router.get('/schedules/:scheduleId', async (req, res) => {
    res.json(scheduleView(await getSchedule(deps, principalOf(res), req.params.scheduleId)));
  });
  router.patch('/schedules/:scheduleId', async (req, res) => {
    const patch = req.body as SchedulePatch;
    res.json(scheduleView(await updateSchedule(deps, principalOf(res), req.params.scheduleId, patch)));
  });
  router.delete('/schedules/:scheduleId', async (req, res) => {
    await deleteSchedule(deps, principalOf(res), req.params.scheduleId, Number(query(req, 'version')));
    res.status(204).end();
  });
  router.post('/schedules/:scheduleId/cancel-sessions', async (req, res) => {
    res.json(await cancelScheduleSessions(deps, principalOf(res), req.params.scheduleId));
  });
  router.get('/schedules/:scheduleId/occurrences', async (req, res) => {
    const count = Number(query(req, 'count') ?? '5');
    const occurrences = await scheduleOccurrences(deps, principalOf(res), req.params.scheduleId, count);
    res.json({
      items: occurrences.map((occurrence) => ({
        at: new Date(occurrence.at).toISOString(),
        kind: occurrence.kind,
        sessionKind: occurrence.sessionKind,
      })),
    });
  });
}
