import * as grpc from '@grpc/grpc-js';
import { NotFoundError, ValidationError } from '@converge/errors';
import {
  addGrpcService,
  create,
  DesiredState as WireDesiredState,
  MaintenanceItemKind,
  PlannedItemSchema,
  ResolutionService,
  ResolveResponseSchema,
  SessionKind as WireSessionKind,
  type PlannedItem as WirePlannedItem,
  type ResolveRequest,
  type ResolveResponse,
} from '@converge/proto';
import { asTenantId } from '@converge/store';
import { GrpcStatusError, traceGrpcHandler, type Logger } from '@converge/telemetry';
import { PrerequisiteCycleError } from '../../domain/catalog-index.ts';
import type { Resolution } from '../../domain/deployment-resolution.ts';
import type { DesiredState, SessionKind } from '../../domain/types.ts';
import type { ResolutionUseCases } from '../../use-cases/resolution.ts';

function sessionKindOf(kind: WireSessionKind): SessionKind {
  switch (kind) {
    case WireSessionKind.ONBOARDING:
      return 'onboarding';
    case WireSessionKind.FULL:
      return 'full';
    case WireSessionKind.SINGLE_ITEM:
      return 'single-item';
    case WireSessionKind.DETECTION_ONLY:
      return 'detection-only';
    case WireSessionKind.UNSPECIFIED:
      throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'session_kind is required');
    default:
      throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, `unknown session_kind ${String(kind)}`);
  }
}

/**
 * A desired state on the wire, or null for "ignored" (the response leaves those items out). Exhaustive:
 * a desired state added to the domain fails to compile here until it has a wire spelling.
 */
export function wireDesiredState(desired: DesiredState): { state: WireDesiredState; version: string } | null {
  switch (desired.state) {
    case 'ignored':
      return null;
    case 'uninstalled':
      return { state: WireDesiredState.UNINSTALLED, version: '' };
    case 'installed-version':
      return { state: WireDesiredState.INSTALLED_VERSION, version: desired.version };
    case 'installed-latest':
      return { state: WireDesiredState.INSTALLED_LATEST, version: '' };
    case 'installed-any':
      return { state: WireDesiredState.INSTALLED_ANY, version: '' };
    case 'update-if-found':
      return { state: WireDesiredState.UPDATE_IF_FOUND, version: '' };
    case 'enforced':
      return { state: WireDesiredState.ENFORCED, version: '' };
    case 'audited':
      return { state: WireDesiredState.AUDITED, version: '' };
    case 'monitored':
      return { state: WireDesiredState.MONITORED, version: '' };
    default:
      return desired satisfies never;
  }
}

/** The plan of a resolution as `ResolveResponse` items: ignored items left out, `order` counted from 0. */
export function wirePlan(resolution: Resolution): WirePlannedItem[] {
  const items: WirePlannedItem[] = [];
  for (const item of resolution.plan) {
    const desired = wireDesiredState(item.desiredState);
    if (desired === null) continue;
    items.push(
      create(PlannedItemSchema, {
        maintenanceItemId: item.maintenanceItem.id,
        kind:
          item.maintenanceItem.kind === 'software' ? MaintenanceItemKind.SOFTWARE : MaintenanceItemKind.TASK,
        deploymentId: item.deploymentId ?? '',
        desiredState: desired.state,
        desiredVersion: desired.version,
        order: items.length,
        prerequisiteOf: [...new Set(item.prerequisiteOf.map((use) => use.softwareId))],
      }),
    );
  }
  return items;
}

function statusOf(error: unknown): unknown {
  if (error instanceof PrerequisiteCycleError)
    return new GrpcStatusError(grpc.status.FAILED_PRECONDITION, error.message);
  if (error instanceof NotFoundError) return new GrpcStatusError(grpc.status.NOT_FOUND, error.message);
  if (error instanceof ValidationError)
    return new GrpcStatusError(grpc.status.INVALID_ARGUMENT, error.message);
  return error;
}

/** Rejects once the call's deadline has passed, so the handler stops waiting for work the caller gave up on. */
function deadlineOf(call: grpc.ServerUnaryCall<ResolveRequest, ResolveResponse>): Promise<never> | null {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return null;
  return new Promise<never>((_resolve, reject) => {
    const timer = setTimeout(
      () => {
        reject(new GrpcStatusError(grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded while resolving'));
      },
      Math.max(0, at - Date.now()),
    );
    timer.unref();
    call.once('cancelled', () => {
      clearTimeout(timer);
    });
  });
}

export interface GrpcServer {
  port: number;
  stop(): Promise<void>;
}

/** Serves `converge.deployments.v1.ResolutionService` for the sessions service. */
export async function startGrpcServer(opts: {
  host: string;
  port: number;
  resolution: ResolutionUseCases;
  logger: Logger;
}): Promise<GrpcServer> {
  const server = new grpc.Server();
  addGrpcService(server, ResolutionService, {
    resolve: traceGrpcHandler('/converge.deployments.v1.ResolutionService/Resolve', async (call) => {
      const request = call.request;
      if (request.tenantId === '' || request.computerId === '')
        throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, 'tenant_id and computer_id are required');
      const work = opts.resolution
        .resolve(
          asTenantId(request.tenantId),
          request.computerId,
          {
            sessionKind: sessionKindOf(request.sessionKind),
            ...(request.maintenanceItemId === undefined ? {} : { itemId: request.maintenanceItemId }),
            explain: false,
          },
          Date.now(),
        )
        .then((resolution) => create(ResolveResponseSchema, { items: wirePlan(resolution) }));
      const deadline = deadlineOf(call);
      try {
        return await (deadline === null ? work : Promise.race([work, deadline]));
      } catch (error) {
        throw statusOf(error);
      }
    }),
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
  opts.logger.info({ grpcPort: port }, 'grpc listening');
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 5_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
