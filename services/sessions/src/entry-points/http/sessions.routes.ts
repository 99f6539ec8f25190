import type { Request, Response, Router } from 'express';
import { authorize, tenantScopeOf } from '@converge/access';
import { ValidationError } from '@converge/errors';
import { principalOf } from '@converge/http';
import { asTenantId, type TenantScope } from '@converge/store';
import type { SessionListFilter } from '../../data-access/session.repository.ts';
import {
  finalSessionStatuses,
  type SessionKind,
  type SessionStatus,
} from '../../domain/maintenance-session.ts';
import type { SessionLiveFeed } from '../../live/session-live-feed.ts';
import {
  cancelSession,
  rerun,
  runNow,
  type RunRequest,
  type TriggerDeps,
} from '../../use-cases/session-triggers.ts';
import { sessionSummaryView, sessionView } from './session-view.ts';

// A comment line keeps proxies from closing a quiet stream.
const keepAliveMs = 15_000;

interface RunBody {
  computerIds?: string[];
  tenantId?: string;
  allComputers?: true;
  kind: RunRequest['kind'];
  maintenanceItemId?: string;
}

function runRequest(body: RunBody): RunRequest {
  const targets = [body.computerIds, body.tenantId, body.allComputers].filter((value) => value !== undefined);
  if (targets.length !== 1) {
    throw new ValidationError('name exactly one target', [
      { path: 'body', message: 'one of computerIds, tenantId or allComputers' },
    ]);
  }
  const target =
    body.computerIds !== undefined
      ? { computerIds: body.computerIds }
      : body.tenantId !== undefined
        ? { tenantId: body.tenantId }
        : { allComputers: true as const };
  return {
    target,
    kind: body.kind,
    ...(body.maintenanceItemId === undefined ? {} : { maintenanceItemId: body.maintenanceItemId }),
  };
}

/** Sessions: run now, list, read, cancel, rerun, and the live view. Reads need `read`, the rest `run-sessions`. */
export function sessionsRoutes(router: Router, deps: TriggerDeps & { live: SessionLiveFeed }): void {
  router.post('/sessions', async (req, res) => {
    res.status(202).json(await runNow(deps, principalOf(res), runRequest(req.body as RunBody)));
  });

  router.get('/sessions', async (req, res) => {
    const principal = principalOf(res);
    const query = req.query as Record<string, string | undefined>;
    authorize(principal, 'read', query.tenantId);
    const filter: SessionListFilter = {};
    if (query.status !== undefined) filter.status = query.status as SessionStatus;
    if (query.computerId !== undefined) filter.computerId = query.computerId;
    if (query.scheduleId !== undefined) filter.scheduleId = query.scheduleId;
    if (query.kind !== undefined) filter.kind = query.kind as SessionKind;
    const scope = query.tenantId === undefined ? tenantScopeOf(principal) : asTenantId(query.tenantId);
    const page = await deps.sessions.list(scope, filter, {
      ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    });
    res.json({ items: page.items.map(sessionSummaryView), nextCursor: page.nextCursor });
  });

  /** The session with its actions' kept log lines, as the API shows it. */
  const readSession = async (scope: TenantScope, sessionId: string) => {
    const stored = await deps.sessions.get(scope, sessionId);
    return sessionView(stored, await deps.sessions.logLines.recent(stored.session));
  };

  router.get('/sessions/:sessionId', async (req, res) => {
    const principal = principalOf(res);
    authorize(principal, 'read');
    res.json(await readSession(tenantScopeOf(principal), req.params.sessionId));
  });

  router.post('/sessions/:sessionId/cancel', async (req, res) => {
    const principal = principalOf(res);
    const { sessionId } = req.params;
    const outcome = await cancelSession(deps, principal, sessionId);
    if (outcome === undefined) {
      // The owner has not applied it yet; it will.
      res
        .status(202)
        .location(`/api/v1/sessions/${encodeURIComponent(sessionId)}`)
        .json({ sessionId });
      return;
    }
    res.json(await readSession(tenantScopeOf(principal), sessionId));
  });

  router.post('/sessions/:sessionId/rerun', async (req, res) => {
    res.status(202).json(await rerun(deps, principalOf(res), req.params.sessionId));
  });

  router.post('/sessions/:sessionId/actions/:actionId/rerun', async (req, res) => {
    res.status(202).json(await rerun(deps, principalOf(res), req.params.sessionId, req.params.actionId));
  });

  router.get('/sessions/:sessionId/live', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    authorize(principal, 'read');
    const sessionId = String(req.params.sessionId);
    const scope = tenantScopeOf(principal);
    // Watch before reading, so nothing between the snapshot and the first event is lost; the client drops
    // events whose version the snapshot already has.
    const pending: string[] = [];
    let writeLive = (text: string) => {
      pending.push(text);
    };
    const send = (event: string, data: unknown) => {
      writeLive(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      unwatch();
      clearInterval(keepAlive);
      res.end();
    };
    const unwatch = deps.live.watch(sessionId, (live) => {
      send(live.event, live.data);
      const status = (live.data as { status?: SessionStatus }).status;
      if (live.event === 'status' && status !== undefined && finalSessionStatuses.includes(status)) finish();
    });
    const keepAlive = setInterval(() => {
      writeLive(': keep-alive\n\n');
    }, keepAliveMs);
    res.on('close', finish);
    let snapshot;
    try {
      snapshot = await readSession(scope, sessionId);
    } catch (error) {
      // Nothing was written yet: the error handler answers with a problem.
      finished = true;
      unwatch();
      clearInterval(keepAlive);
      throw error;
    }
    res.status(200).set({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.write(`event: session\ndata: ${JSON.stringify(snapshot)}\n\n`);
    writeLive = (text) => {
      if (!finished) res.write(text);
    };
    for (const text of pending.splice(0)) writeLive(text);
    if (finalSessionStatuses.includes(snapshot.status)) finish();
  });
}
