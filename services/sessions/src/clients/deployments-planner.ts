import * as grpc from '@grpc/grpc-js';
import type { ScriptLanguage as ContractLanguage } from '@converge/contracts';
import {
  create,
  DesiredState,
  makeGrpcClient,
  MaintenanceItemKind,
  ResolutionService,
  ResolveRequestSchema,
  ScriptExecutionContext,
  ScriptLanguage,
  ScriptStep,
  SessionKind as WireSessionKind,
  type PlannedItem as WirePlannedItem,
  type ResolveResponse,
  type StepScript,
} from '@converge/proto';
import { grpcClientTracing } from '@converge/telemetry';
import type {
  PlannedSoftware,
  PlannedTask,
  SessionKind,
  SoftwareDesiredState,
} from '../domain/maintenance-session.ts';
import type { PlanScript, PlanScripts } from '../domain/plan-scripts.ts';
import type { SessionPlan } from '../domain/session-plan.ts';

export interface PlanRequest {
  tenantId: string;
  computerId: string;
  /** The session and its agent, which deployments seals the plan's secrets to. */
  sessionId: string;
  agentId: string;
  kind: SessionKind;
  maintenanceItemId?: string;
}

/** Deployments answered, and the answer means the session cannot run (no such computer, a cycle, no script). */
export class PlanRefusedError extends Error {
  /**
   * Deployments does not know the computer (or item) yet: its projection may lag behind the event that
   * started the session, so the answer may change shortly.
   */
  readonly notKnownYet: boolean;

  constructor(message: string, notKnownYet = false) {
    super(message);
    this.name = 'PlanRefusedError';
    this.notKnownYet = notKnownYet;
  }
}

export interface Planner {
  plan(request: PlanRequest): Promise<SessionPlan>;
  close(): void;
}

const wireKinds: Record<SessionKind, WireSessionKind> = {
  onboarding: WireSessionKind.ONBOARDING,
  full: WireSessionKind.FULL,
  'single-item': WireSessionKind.SINGLE_ITEM,
  'detection-only': WireSessionKind.DETECTION_ONLY,
};

// Answers that will not change by asking again; anything else (unavailable, deadline) is retried later.
const refusals = new Set([
  grpc.status.NOT_FOUND,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.PERMISSION_DENIED,
]);

/** Asks the deployments service (gRPC `Resolve`) for a session's plan. */
export function deploymentsPlanner(opts: { address: string; deadlineMs: number }): Planner {
  const client = makeGrpcClient(ResolutionService, opts.address, grpc.credentials.createInsecure(), {
    interceptors: [grpcClientTracing],
  });
  return {
    plan: (request) =>
      new Promise<SessionPlan>((resolve, reject) => {
        const message = create(ResolveRequestSchema, {
          tenantId: request.tenantId,
          computerId: request.computerId,
          sessionId: request.sessionId,
          agentId: request.agentId,
          sessionKind: wireKinds[request.kind],
          ...(request.maintenanceItemId === undefined
            ? {}
            : { maintenanceItemId: request.maintenanceItemId }),
        });
        client.resolve(message, { deadline: Date.now() + opts.deadlineMs }, (error, response) => {
          if (error !== null) {
            const refused = refusals.has(error.code);
            reject(
              refused ? new PlanRefusedError(error.details, error.code === grpc.status.NOT_FOUND) : error,
            );
          } else if (response === undefined) {
            reject(new Error('Resolve answered nothing'));
          } else {
            try {
              resolve(sessionPlan(response));
            } catch (cause) {
              reject(cause instanceof Error ? cause : new Error(String(cause)));
            }
          }
        });
      }),
    close: () => {
      client.close();
    },
  };
}

const languages: Partial<Record<ScriptLanguage, ContractLanguage>> = {
  [ScriptLanguage.POWERSHELL]: 'powershell',
  [ScriptLanguage.PWSH]: 'pwsh',
  [ScriptLanguage.BASH]: 'bash',
  [ScriptLanguage.SH]: 'sh',
  [ScriptLanguage.CMD]: 'cmd',
};

const contexts: Partial<Record<ScriptExecutionContext, PlanScript['executionContext']>> = {
  [ScriptExecutionContext.SYSTEM]: 'system',
  [ScriptExecutionContext.USER]: 'user',
  [ScriptExecutionContext.METASCRIPT]: 'metascript',
  [ScriptExecutionContext.CLOUD]: 'cloud',
};

// A step without a script is planned with this id; a command for it is answered "cannot run".
const noScript = '';
const defaultTimeoutSeconds = 600;

/** The domain's plan from deployments' answer. Throws `PlanRefusedError` for an answer it cannot run from. */
export function sessionPlan(response: ResolveResponse): SessionPlan {
  const scripts: PlanScripts = {};
  const items = response.items.map((wire) => {
    const byStep = new Map<ScriptStep, StepScript>();
    for (const script of wire.scripts) {
      byStep.set(script.step, script);
      const language = languages[script.language];
      const executionContext = contexts[script.executionContext];
      if (language === undefined || executionContext === undefined) {
        throw new PlanRefusedError(
          `item ${wire.name || wire.maintenanceItemId}: script ${script.scriptId} has no language or context`,
        );
      }
      scripts[script.scriptId] = {
        scriptId: script.scriptId,
        language,
        executionContext,
        body: script.body,
        methodParameter: script.methodParameter,
      };
    }
    const idOf = (step: ScriptStep) => byStep.get(step)?.scriptId ?? noScript;
    const timeouts = wire.scripts.map((script) => script.timeoutSeconds).filter((seconds) => seconds > 0);
    const base = {
      id: wire.maintenanceItemId,
      name: wire.name || wire.maintenanceItemId,
      prerequisites: [...wire.prerequisites],
      // One timeout per item: its slowest script's.
      timeoutSeconds: timeouts.length === 0 ? defaultTimeoutSeconds : Math.max(...timeouts),
      parameters: { ...wire.parameters },
      // Left out when empty, so a plan without secrets is the same plan for every session (plans are stored once).
      ...(Object.keys(wire.sealedParameters).length === 0
        ? {}
        : { sealedParameters: { ...wire.sealedParameters } }),
    };
    if (wire.kind === MaintenanceItemKind.TASK) return task(wire, base, idOf);
    const software: PlannedSoftware = {
      ...base,
      kind: 'software',
      desiredState: softwareState(wire),
      scripts: {
        detect: idOf(ScriptStep.DETECT),
        install: idOf(ScriptStep.INSTALL),
        uninstall: idOf(ScriptStep.UNINSTALL),
        ...(byStep.has(ScriptStep.UPGRADE) ? { update: idOf(ScriptStep.UPGRADE) } : {}),
      },
    };
    return software;
  });
  return { items, scripts };
}

function softwareState(wire: WirePlannedItem): SoftwareDesiredState {
  const version = wire.desiredVersion;
  const named = (state: 'installed-latest' | 'installed-specific' | 'any' | 'update-if-found') => {
    if (version === '') {
      throw new PlanRefusedError(
        `software ${wire.name || wire.maintenanceItemId} has no version in the catalog`,
      );
    }
    return { state, version };
  };
  switch (wire.desiredState) {
    case DesiredState.INSTALLED_LATEST:
      return named('installed-latest');
    case DesiredState.INSTALLED_VERSION:
      return named('installed-specific');
    case DesiredState.INSTALLED_ANY:
      return named('any');
    case DesiredState.UPDATE_IF_FOUND:
      return named('update-if-found');
    case DesiredState.UNINSTALLED:
      return { state: 'uninstalled' };
    default:
      throw new PlanRefusedError(
        `software ${wire.name || wire.maintenanceItemId} has desired state ${String(wire.desiredState)}, which is not a software state`,
      );
  }
}

function task(
  wire: WirePlannedItem,
  base: Omit<PlannedTask, 'kind' | 'mode' | 'scripts'>,
  idOf: (step: ScriptStep) => string,
): PlannedTask {
  switch (wire.desiredState) {
    case DesiredState.ENFORCED:
      return {
        ...base,
        kind: 'task',
        mode: 'enforce',
        scripts: { test: idOf(ScriptStep.TEST), set: idOf(ScriptStep.SET) },
      };
    case DesiredState.AUDITED:
      return { ...base, kind: 'task', mode: 'audit', scripts: { test: idOf(ScriptStep.TEST) } };
    case DesiredState.MONITORED:
      return { ...base, kind: 'task', mode: 'monitor', scripts: { get: idOf(ScriptStep.GET) } };
    default:
      throw new PlanRefusedError(
        `maintenance task ${wire.name || wire.maintenanceItemId} has desired state ${String(wire.desiredState)}, which is not a task mode`,
      );
  }
}
