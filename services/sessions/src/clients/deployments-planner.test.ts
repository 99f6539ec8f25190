import { describe, expect, it } from '@jest/globals';
import {
  create,
  DesiredState,
  MaintenanceItemKind,
  PlannedItemSchema,
  ResolveResponseSchema,
  ScriptExecutionContext,
  ScriptLanguage,
  ScriptStep,
  StepScriptSchema,
} from '@converge/proto';
import { PlanRefusedError, sessionPlan } from './deployments-planner.ts';

function script(step: ScriptStep, scriptId: string, timeoutSeconds = 60, methodParameter = false) {
  return create(StepScriptSchema, {
    step,
    scriptId,
    language: ScriptLanguage.BASH,
    executionContext: ScriptExecutionContext.SYSTEM,
    body: `run ${scriptId}`,
    timeoutSeconds,
    methodParameter,
  });
}

describe("the session's plan from deployments' answer", () => {
  it('maps software and tasks with their step scripts, versions, prerequisites, parameters and timeouts', () => {
    const plan = sessionPlan(
      create(ResolveResponseSchema, {
        items: [
          create(PlannedItemSchema, {
            maintenanceItemId: 'pm',
            kind: MaintenanceItemKind.SOFTWARE,
            name: 'Package Manager',
            desiredState: DesiredState.INSTALLED_LATEST,
            desiredVersion: '1.2',
            scripts: [
              script(ScriptStep.DETECT, 'pm-detect', 30),
              script(ScriptStep.INSTALL, 'pm-install', 900),
            ],
          }),
          create(PlannedItemSchema, {
            maintenanceItemId: 'firewall',
            kind: MaintenanceItemKind.TASK,
            name: 'Firewall',
            desiredState: DesiredState.ENFORCED,
            prerequisites: ['pm'],
            parameters: { port: '443' },
            sealedParameters: { apiKey: 'v1:sealed-for-the-gateway' },
            scripts: [
              script(ScriptStep.TEST, 'fw-combined', 60, true),
              script(ScriptStep.SET, 'fw-combined', 60, true),
            ],
          }),
        ],
      }),
    );
    expect(plan.items).toEqual([
      {
        kind: 'software',
        id: 'pm',
        name: 'Package Manager',
        prerequisites: [],
        timeoutSeconds: 900,
        parameters: {},
        desiredState: { state: 'installed-latest', version: '1.2' },
        scripts: { detect: 'pm-detect', install: 'pm-install', uninstall: '' },
      },
      {
        kind: 'task',
        mode: 'enforce',
        id: 'firewall',
        name: 'Firewall',
        prerequisites: ['pm'],
        timeoutSeconds: 60,
        parameters: { port: '443' },
        sealedParameters: { apiKey: 'v1:sealed-for-the-gateway' },
        scripts: { test: 'fw-combined', set: 'fw-combined' },
      },
    ]);
    expect(plan.scripts['fw-combined']).toMatchObject({
      language: 'bash',
      executionContext: 'system',
      methodParameter: true,
    });
  });

  it('refuses software that should be installed but has no version in the catalog', () => {
    const response = create(ResolveResponseSchema, {
      items: [
        create(PlannedItemSchema, {
          maintenanceItemId: 'reader',
          kind: MaintenanceItemKind.SOFTWARE,
          name: 'Reader',
          desiredState: DesiredState.INSTALLED_ANY,
          scripts: [script(ScriptStep.DETECT, 'reader-detect')],
        }),
      ],
    });
    expect(() => sessionPlan(response)).toThrow(PlanRefusedError);
    expect(() => sessionPlan(response)).toThrow('software Reader has no version in the catalog');
  });
});
