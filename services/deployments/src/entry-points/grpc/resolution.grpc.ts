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
  ScriptExecutionContext,
  ScriptLanguage as WireScriptLanguage,
  ScriptStep as WireScriptStep,
  SessionKind as WireSessionKind,
  StepScriptSchema,
  type PlannedItem as WirePlannedItem,
  type ResolveRequest,
  type ResolveResponse,
  type StepScript,
} from '@converge/proto';
import { asTenantId } from '@converge/store';
import { GrpcStatusError, traceGrpcHandler, type Logger } from '@converge/telemetry';
import type { ExecutionContext, ScriptLanguage } from '../../data-access/catalog.schemas.ts';
import { PrerequisiteCycleError } from '../../domain/catalog-index.ts';
import { PlanNotRunnableError, type ScriptStep } from '../../domain/item-scripts.ts';
import type { DesiredState, SessionKind } from '../../domain/types.ts';
import type { ResolutionUseCases } from '../../use-cases/resolution.ts';
import type { SessionPlanItem, SessionScript } from '../../use-cases/session-plan.ts';

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

// The switches below are exhaustive: a step, language or context added to the catalog fails to compile here
// until it has a wire spelling.

function wireStep(step: ScriptStep): WireScriptStep {
  switch (step) {
    case 'detect':
      return WireScriptStep.DETECT;
    case 'install':
      return WireScriptStep.INSTALL;
    case 'uninstall':
      return WireScriptStep.UNINSTALL;
    case 'upgrade':
      return WireScriptStep.UPGRADE;
    case 'test':
      return WireScriptStep.TEST;
    case 'set':
      return WireScriptStep.SET;
    case 'get':
      return WireScriptStep.GET;
    default:
      return step satisfies never;
  }
}

function wireLanguage(language: ScriptLanguage): WireScriptLanguage {
  switch (language) {
    case 'powershell':
      return WireScriptLanguage.POWERSHELL;
    case 'pwsh':
      return WireScriptLanguage.PWSH;
    case 'bash':
      return WireScriptLanguage.BASH;
    case 'sh':
      return WireScriptLanguage.SH;
    case 'cmd':
      return WireScriptLanguage.CMD;
    default:
      return language satisfies never;
  }
}

function wireExecutionContext(context: ExecutionContext): ScriptExecutionContext {
  switch (context) {
    case 'system':
      return ScriptExecutionContext.SYSTEM;
    case 'user':
      return ScriptExecutionContext.USER;
    case 'metascript':
      return ScriptExecutionContext.METASCRIPT;
    case 'cloud':
      return ScriptExecutionContext.CLOUD;
    default:
      return context satisfies never;
  }
}

function wireScript(script: SessionScript): StepScript {
  return create(StepScriptSchema, {
    step: wireStep(script.step),
    scriptId: script.scriptId,
    language: wireLanguage(script.language),
    executionContext: wireExecutionContext(script.executionContext),
    body: script.body,
    timeoutSeconds: script.timeoutSeconds,
    methodParameter: script.methodParameter,
  });
}

/** A session plan as `ResolveResponse` items, `order` counted from 0. */
export function wirePlan(plan: readonly SessionPlanItem[]): WirePlannedItem[] {
  const items: WirePlannedItem[] = [];
  for (const item of plan) {
    const desired = wireDesiredState(item.desiredState);
    // The session plan has already left ignored items out.
    if (desired === null) continue;
    items.push(
      create(PlannedItemSchema, {
        maintenanceItemId: item.maintenanceItem.id,
        kind:
          item.maintenanceItem.kind === 'software' ? MaintenanceItemKind.SOFTWARE : MaintenanceItemKind.TASK,
        deploymentId: item.deploymentId ?? '',
        desiredState: desired.state,
        desiredVersion: item.desiredVersion ?? '',
        order: items.length,
        prerequisiteOf: item.prerequisiteOf,
        name: item.name,
        scripts: item.scripts.map(wireScript),
        // fromEntries defines own properties, so even a parameter named __proto__ stays a plain entry.
        parameters: Object.fromEntries(item.parameters),
        sealedParameters: Object.fromEntries(item.sealedParameters),
        prerequisites: item.prerequisites,
      }),
    );
  }
  return items;
}

function statusOf(error: unknown): unknown {
  if (error instanceof PrerequisiteCycleError || error instanceof PlanNotRunnableError)
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
      if (
        request.tenantId === '' ||
        request.computerId === '' ||
        request.sessionId === '' ||
        request.agentId === ''
      ) {
        throw new GrpcStatusError(
          grpc.status.INVALID_ARGUMENT,
          'tenant_id, computer_id, session_id and agent_id are required',
        );
      }
      const work = opts.resolution
        .sessionPlan(
          asTenantId(request.tenantId),
          request.computerId,
          {
            sessionKind: sessionKindOf(request.sessionKind),
            ...(request.maintenanceItemId === undefined ? {} : { itemId: request.maintenanceItemId }),
          },
          { tenantId: request.tenantId, agentId: request.agentId, sessionId: request.sessionId },
          Date.now(),
        )
        .then((plan) => create(ResolveResponseSchema, { items: wirePlan(plan) }));
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
