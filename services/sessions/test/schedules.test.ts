import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createBus, type Bus } from '@converge/bus';
import { computerChanged, topics } from '@converge/contracts';
import { allTenants } from '@converge/store';
import { createLogger } from '@converge/telemetry';
import {
  getAccessToken,
  stack,
  startService,
  uniqueId,
  waitFor,
  type ServiceProcess,
} from '@converge/testing';
import { computerSnapshot } from './simulated-fleet.ts';
import { ComputerRepository, type ComputerDocument } from '../src/data-access/computer.repository.ts';
import { ScheduleRepository, type ScheduleDocument } from '../src/data-access/schedule.repository.ts';
import { derivedSessionId } from '../src/use-cases/computer-changes.ts';
import { fireDueSchedules, type FiredOccurrence, type ScheduleDeps } from '../src/use-cases/schedules.ts';
import { startOwnerStack, type OwnerStack } from './owner-harness.ts';

const contoso = 'tenant-contoso';
const fabrikam = uniqueId('tenant-fabrikam');
const logger = createLogger({ service: 'schedules-test', level: 'error' });

describe('schedules through the service', () => {
  const topicPrefix = `${uniqueId('schedules-test')}.`;
  let bus: Bus;
  let service: ServiceProcess;
  const tokens = new Map<string, string>();
  const computers = {
    first: uniqueId('pc-first'),
    second: uniqueId('pc-second'),
    excluded: uniqueId('pc-excluded'),
    agentless: uniqueId('pc-agentless'),
    elsewhere: uniqueId('pc-elsewhere'),
  };

  async function api(role: string, method: string, path: string, body?: unknown) {
    const response = await fetch(`${service.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens.get(role) ?? ''}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: (text === '' ? null : JSON.parse(text)) as Record<string, unknown>,
    };
  }

  const everySecond = {
    name: 'Contoso every second',
    target: { kind: 'tenant', tenantId: contoso },
    cron: '* * * * * *',
    timeZone: 'Europe/Amsterdam',
    maintenanceWindowMinutes: 60,
  };

  beforeAll(async () => {
    bus = createBus({
      topicPrefix,
      brokers: [...stack.kafkaBrokers],
      clientId: uniqueId('schedules-test'),
      source: 'identity',
      logger,
    });
    await bus.connect();
    // The topics the sessions service consumes, created as their owners would at start.
    await bus.ensureTopics([
      { topic: topics.computerEvents, partitions: 3 },
      { topic: topics.agentEvents, partitions: 3 },
      { topic: topics.commandResults, partitions: 3 },
      { topic: topics.commands, partitions: 3 },
    ]);
    const snapshots = [
      computerSnapshot(computers.first, contoso),
      computerSnapshot(computers.second, contoso),
      computerSnapshot(computers.excluded, contoso, { excludedFromMaintenance: true }),
      computerSnapshot(computers.agentless, contoso, { agentIds: [] }),
      computerSnapshot(computers.elsewhere, fabrikam),
    ];
    const roles = ['msp-admin', 'msp-non-admin', 'tenant-admin', 'tenant-non-admin'] as const;
    const [started] = await Promise.all([
      startService({
        entry: 'services/sessions/src/main.ts',
        name: 'sessions',
        env: {
          MONGO_DATABASE_PREFIX: uniqueId('schedules').replace(/-/g, '_'),
          KAFKA_TOPIC_PREFIX: topicPrefix,
          SCHEDULE_TICK_INTERVAL: '500ms',
          // Nothing answers there: sessions wait for a plan, which is all these tests need of them.
          DEPLOYMENTS_GRPC_ADDRESS: '127.0.0.1:1',
        },
      }),
      ...roles.map(async (role) => tokens.set(role, await getAccessToken(role))),
      ...snapshots.map((data) =>
        bus.publish(computerChanged, { subject: data.computerId, tenantId: data.tenantId, data }),
      ),
    ]);
    service = started;
  }, 60_000);

  afterAll(async () => {
    await service.stop();
    await bus.disconnect();
  });

  it('refuses a time zone or cron expression it cannot read, with a problem and nothing written', async () => {
    const badZone = await api('tenant-admin', 'POST', '/schedules', {
      ...everySecond,
      timeZone: 'Mars/Olympus',
    });
    expect(badZone.status).toBe(400);
    expect(badZone.type).toMatch(/application\/problem\+json/);
    const badCron = await api('tenant-admin', 'POST', '/schedules', { ...everySecond, cron: '0 2 * *' });
    expect(badCron.status).toBe(400);
    const badShape = await api('tenant-admin', 'POST', '/schedules', {
      ...everySecond,
      offlineBehavior: 'later',
    });
    expect(badShape.status).toBe(400);
    const list = await api('msp-admin', 'GET', '/schedules');
    expect(list.body.items).toEqual([]);
  });

  it('lets tenant and MSP admins manage schedules, MSP admins alone cross-tenant ones, and nobody else', async () => {
    expect((await api('tenant-non-admin', 'POST', '/schedules', everySecond)).status).toBe(403);
    expect((await api('msp-non-admin', 'POST', '/schedules', everySecond)).status).toBe(403);
    const crossTenant = { ...everySecond, cron: '0 2 * * *', target: { kind: 'all-computers' } };
    expect((await api('tenant-admin', 'POST', '/schedules', crossTenant)).status).toBe(403);
    const created = await api('msp-admin', 'POST', '/schedules', crossTenant);
    expect(created.status).toBe(201);
    expect(created.body.tenantId).toBeNull();
    // A tenant user does not see a cross-tenant schedule at all.
    expect((await api('tenant-admin', 'GET', `/schedules/${String(created.body.id)}`)).status).toBe(404);
    const removed = await api('msp-admin', 'DELETE', `/schedules/${String(created.body.id)}?version=1`);
    expect(removed.status).toBe(204);
  });

  it('previews the next occurrences, detection-only ones between full ones', async () => {
    const created = await api('tenant-admin', 'POST', '/schedules', {
      ...everySecond,
      name: 'Contoso nightly',
      cron: '0 22 * * *',
      detectionCron: '0 10 * * *',
      timeZone: 'UTC',
      maintenanceItemId: 'reader',
      enabled: false,
    });
    expect(created.status).toBe(201);
    const preview = await api(
      'tenant-admin',
      'GET',
      `/schedules/${String(created.body.id)}/occurrences?count=4`,
    );
    expect(preview.status).toBe(200);
    const items = preview.body.items as { at: string; kind: string; sessionKind: string }[];
    expect(items).toHaveLength(4);
    for (const item of items) {
      expect(item.sessionKind).toBe(item.kind === 'full' ? 'single-item' : 'detection-only');
      expect(new Date(item.at).getUTCHours()).toBe(item.kind === 'full' ? 22 : 10);
    }
    expect(new Set(items.map((item) => item.kind))).toEqual(new Set(['full', 'detection']));
  });

  it("fires once per occurrence for the target's maintainable computers, and cancels what it started", async () => {
    const created = await api('tenant-admin', 'POST', '/schedules', everySecond);
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    type Listed = { computerId: string; trigger: string; kind: string; status: string };
    const listed = async (): Promise<Listed[]> => {
      const page = await api('tenant-admin', 'GET', `/sessions?scheduleId=${id}&limit=200`);
      return page.body.items as Listed[];
    };
    // Computers reach the projection through Kafka; later occurrences find them all.
    await waitFor(async () => new Set((await listed()).map((item) => item.computerId)).size === 2, {
      timeoutMs: 20_000,
    });
    const current = await api('tenant-admin', 'GET', `/schedules/${id}`);
    const disabled = await api('tenant-admin', 'PATCH', `/schedules/${id}`, {
      enabled: false,
      version: current.body.version,
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.nextRunAt).not.toBeNull();
    // An occurrence claimed before the change may still be starting its sessions: wait until none appear.
    let sessions: Listed[] = [];
    await waitFor(
      async () => {
        const previous = sessions.length;
        sessions = await listed();
        return previous > 0 && sessions.length === previous;
      },
      { timeoutMs: 10_000, intervalMs: 700 },
    );
    expect(new Set(sessions.map((item) => item.computerId))).toEqual(
      new Set([computers.first, computers.second]),
    );
    expect(sessions.every((item) => item.trigger === 'schedule' && item.kind === 'full')).toBe(true);
    // One session per computer per occurrence: never more sessions for a computer than there were seconds.
    const lastFired = await api('tenant-admin', 'GET', `/schedules/${id}`);
    const firstSession = Date.parse(String(created.body.createdAt));
    const seconds = Math.ceil((Date.parse(String(lastFired.body.lastFiredAt)) - firstSession) / 1000) + 1;
    for (const computerId of [computers.first, computers.second]) {
      expect(sessions.filter((item) => item.computerId === computerId).length).toBeLessThanOrEqual(seconds);
    }

    const cancelled = await api('tenant-admin', 'POST', `/schedules/${id}/cancel-sessions`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancelled).toBe(sessions.length);
    expect((await listed()).every((item) => item.status === 'cancelled')).toBe(true);
  });

  it('changes a schedule only at the version read', async () => {
    const created = await api('tenant-admin', 'POST', '/schedules', {
      ...everySecond,
      name: 'stale',
      enabled: false,
    });
    const stale = await api('tenant-admin', 'PATCH', `/schedules/${String(created.body.id)}`, {
      name: 'renamed',
      version: 7,
    });
    expect(stale.status).toBe(409);
    const renamed = await api('tenant-admin', 'PATCH', `/schedules/${String(created.body.id)}`, {
      name: 'renamed',
      rebootPreference: 'suppress',
      version: 1,
    });
    expect(renamed.body).toMatchObject({ name: 'renamed', rebootPreference: 'suppress', version: 2 });
  });
});

describe('firing in one process racing another, and catching up', () => {
  let owners: OwnerStack;
  let deps: ScheduleDeps;
  const day = 24 * 3_600_000;
  const today2am = Date.UTC(2026, 4, 4, 2, 0, 0);
  const clock = { now: today2am };

  beforeAll(async () => {
    owners = await startOwnerStack({ clock: () => clock.now });
    const { mongo, sessions, commands } = owners;
    const computers = new ComputerRepository(mongo);
    const schedules = new ScheduleRepository(mongo);
    deps = { sessions, computers, commands, schedules, logger, clock: () => clock.now };
    for (const name of ['a', 'b', 'c']) {
      const computer: ComputerDocument = {
        _id: `pc-${name}`,
        tenantId: contoso,
        name,
        agentId: `agent-${name}`,
        onboardingStatus: 'onboarded',
        excludedFromMaintenance: false,
        deleted: false,
        version: 1,
      };
      await computers.upsertIfNewer(computer);
    }
  }, 60_000);

  afterAll(async () => {
    await owners.stop();
  });

  async function schedule(fields: Partial<ScheduleDocument>): Promise<ScheduleDocument> {
    const nextRunAt = new Date(today2am);
    return deps.schedules.insert({
      _id: uniqueId('schedule'),
      tenantId: contoso,
      name: 'nightly',
      enabled: true,
      target: { kind: 'tenant', tenantId: contoso },
      maintenanceItemId: null,
      cron: '0 2 * * *',
      detectionCron: null,
      timeZone: 'UTC',
      perComputerLocalTime: false,
      maintenanceWindowMinutes: 60,
      offlineBehavior: 'skip',
      rebootPreference: 'normal',
      nextRunAt,
      nextRunKind: 'full',
      firing: null,
      wakeAt: nextRunAt,
      lastFiredAt: null,
      lastSkipped: null,
      version: 1,
      settingsVersion: 1,
      createdAt: new Date(today2am - day),
      updatedAt: new Date(today2am - day),
      ...fields,
    });
  }

  /** The schedule's sessions once their owners have created `count` of them. */
  async function sessionsOf(scheduleId: string, count: number) {
    let page = await deps.sessions.list(allTenants, { scheduleId }, { limit: 200 });
    await waitFor(async () => {
      page = await deps.sessions.list(allTenants, { scheduleId }, { limit: 200 });
      return page.items.length >= count;
    });
    return (await deps.sessions.byIds(page.items.map((item) => item._id))).map((stored) => stored.session);
  }

  it('starts one session per computer when two tickers find the same occurrence due at once', async () => {
    const created = await schedule({});
    const now = today2am + 5 * 60_000;
    const [one, two] = await Promise.all([fireDueSchedules(deps, now), fireDueSchedules(deps, now)]);
    const firings = [...one, ...two].filter((fired) => fired.scheduleId === created._id);
    expect(firings).toHaveLength(1);
    expect(firings[0]).toMatchObject({ started: 3, late: false, occurrenceAt: today2am });
    const sessions = await sessionsOf(created._id, 3);
    expect(sessions.map((session) => session.computerId).sort()).toEqual(['pc-a', 'pc-b', 'pc-c']);
    expect(sessions[0]?.notAfter).toBe(today2am + 60 * 60_000);
    // Each owner started each session once, however often it was asked.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await sessionsOf(created._id, 3)).toHaveLength(3);
    const after = await deps.schedules.find(created._id);
    expect(after?.nextRunAt?.getTime()).toBe(today2am + day);
    expect(after?.firing).toBeNull();
    expect(after?.lastFiredAt?.getTime()).toBe(today2am);
  });

  it('skips an occurrence missed by more than its window, and fires nothing for it', async () => {
    const created = await schedule({
      nextRunAt: new Date(today2am - 2 * day),
      wakeAt: new Date(today2am - 2 * day),
    });
    await fireDueSchedules(deps, today2am - day + 12 * 3_600_000);
    expect(await deps.sessions.list(allTenants, { scheduleId: created._id }, { limit: 200 })).toMatchObject({
      items: [],
    });
    const after = await deps.schedules.find(created._id);
    expect(after?.lastSkipped?.at.getTime()).toBe(today2am - 2 * day);
    expect(after?.nextRunAt?.getTime()).toBe(today2am);
  });

  it('applies one missed occurrence on connect: sessions start now and wait for their computer', async () => {
    const missed = new Date(today2am - 3 * day);
    const created = await schedule({
      offlineBehavior: 'apply-on-connect',
      nextRunAt: missed,
      wakeAt: missed,
    });
    const now = today2am - day + 12 * 3_600_000;
    const fired = await fireDueSchedules(deps, now);
    expect(fired.filter((item) => item.scheduleId === created._id)).toEqual([
      expect.objectContaining({ late: true, started: 3, occurrenceAt: missed.getTime() }),
    ]);
    const sessions = await sessionsOf(created._id, 3);
    expect(sessions).toHaveLength(3);
    expect(sessions.every((session) => session.notAfter === null)).toBe(true);
    const again = await fireDueSchedules(deps, now + 1_000);
    expect(again.filter((item) => item.scheduleId === created._id)).toEqual([]);
  });

  it('takes over a firing whose replica died before starting every session, starting nothing twice', async () => {
    const occurrenceAt = new Date(today2am);
    const leaseUntil = new Date(today2am + 30_000);
    const created = await schedule({
      nextRunAt: new Date(today2am + day),
      firing: { occurrenceAt, kind: 'full', late: false, leaseUntil },
      wakeAt: leaseUntil,
    });
    // The replica that claimed the occurrence had started pc-a's session when it died.
    await deps.commands.start(
      [
        {
          sessionId: derivedSessionId(`schedule:${created._id}:${String(today2am)}:pc-a`),
          tenantId: contoso,
          computerId: 'pc-a',
          agentId: 'agent-a',
          kind: 'full',
          trigger: 'schedule',
          maintenanceItemId: null,
          scheduleId: created._id,
        },
      ],
      { waitMs: 10_000 },
    );
    const ours = (fired: FiredOccurrence[]) => fired.filter((item) => item.scheduleId === created._id);
    // Before the lease has passed, the firing is its replica's.
    expect(ours(await fireDueSchedules(deps, today2am + 10_000))).toEqual([]);
    const fired = ours(await fireDueSchedules(deps, today2am + 31_000));
    expect(fired).toEqual([expect.objectContaining({ started: 2 })]);
    expect(await sessionsOf(created._id, 3)).toHaveLength(3);
    const after = await deps.schedules.find(created._id);
    expect(after?.firing).toBeNull();
    expect(after?.wakeAt?.getTime()).toBe(today2am + day);
  });
});
