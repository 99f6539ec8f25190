import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import {
  create,
  DesiredState,
  makeGrpcClient,
  ResolutionService,
  ResolveRequestSchema,
  ScriptExecutionContext,
  ScriptLanguage,
  ScriptStep,
  SessionKind,
  type PlannedItem,
  type ResolveResponse,
} from '@converge/proto';
import { uniqueId, waitFor } from '@converge/testing';
import type { Resolution } from '../src/domain/deployment-resolution.ts';
import {
  computerChanged,
  computerSnapshot,
  powershellScript,
  softwareBody,
  startDeployments,
  tenantSnapshot,
  tenantUpserted,
  type Api,
  type DeploymentsUnderTest,
} from './deployments-service.ts';

let deployments: DeploymentsUnderTest;
let msp: Api;
let client: ReturnType<typeof makeGrpcClient<typeof ResolutionService.method>>;

// A customer (parent) with a site (child), and a tenant that manages its own baseline.
const customer = uniqueId('tenant-customer');
const site = uniqueId('tenant-site');
const selfManaged = uniqueId('tenant-self-managed');
const siteComputer = uniqueId('computer-site');
const customerComputer = uniqueId('computer-customer');
const selfManagedComputer = uniqueId('computer-self-managed');
const ids: Record<string, string> = {};

async function created(response: Response): Promise<{ id: string }> {
  if (response.status !== 201)
    throw new Error(`expected 201, got ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string };
}

/** The session and agent a plan's secrets are sealed to: each computer's agent, in one session. */
const sessionId = uniqueId('session');
const agentOf = (computerId: string) => `agent-of-${computerId}`;

function resolveOverGrpc(
  computerId: string,
  tenantId: string,
  deadline = Date.now() + 5_000,
  sessionKind = SessionKind.FULL,
  binding = { sessionId, agentId: agentOf(computerId) },
) {
  return new Promise<ResolveResponse>((resolve, reject) => {
    client.resolve(
      create(ResolveRequestSchema, { computerId, tenantId, sessionKind, ...binding }),
      { deadline },
      (error, response) => {
        if (error) reject(error);
        else if (response) resolve(response);
      },
    );
  });
}

/** What gRPC and the preview must agree on: items, winners, order and prerequisite links. */
function planShape(items: readonly PlannedItem[]) {
  return items.map((item) => [item.maintenanceItemId, item.deploymentId, item.order, item.prerequisiteOf]);
}

function previewShape(resolution: Resolution) {
  return resolution.plan
    .filter((item) => item.desiredState.state !== 'ignored')
    .map((item, order) => [
      item.maintenanceItem.id,
      item.deploymentId ?? '',
      order,
      [...new Set(item.prerequisiteOf.map((use) => use.softwareId))],
    ]);
}

async function preview(computerId: string): Promise<Resolution> {
  const response = await msp.get(`/computers/${computerId}/resolution?sessionKind=full`);
  if (response.status !== 200)
    throw new Error(`preview answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Resolution;
}

beforeAll(async () => {
  deployments = await startDeployments();
  msp = await deployments.as('msp-admin');
  client = makeGrpcClient(ResolutionService, deployments.grpcAddress, grpc.credentials.createInsecure());
  const { bus } = deployments;
  await bus.publishMany(tenantUpserted, [
    tenantSnapshot({ tenantId: customer }),
    tenantSnapshot({ tenantId: site, parentTenantId: customer }),
    tenantSnapshot({
      tenantId: selfManaged,
      settings: {
        onboardingEnabled: false,
        timeZone: 'UTC',
        businessHours: null,
        excludedFromCrossTenantDeployments: true,
      },
    }),
  ]);
  await bus.publishMany(computerChanged, [
    computerSnapshot({ computerId: siteComputer, tenantId: site }),
    computerSnapshot({ computerId: customerComputer, tenantId: customer }),
    computerSnapshot({ computerId: selfManagedComputer, tenantId: selfManaged }),
  ]);

  const script = await created(await msp.post('/scripts', { name: 'Detect', ...powershellScript }));
  const runtime = await created(await msp.post('/software', softwareBody('VC++ runtime', script.id)));
  ids.reader = (
    await created(
      await msp.post(
        '/software',
        softwareBody('Reader', script.id, {
          prerequisites: [
            {
              condition: { when: 'not-installed', match: 'any-of', softwareIds: [runtime.id] },
              action: { kind: 'install', softwareIds: [runtime.id] },
            },
          ],
        }),
      ),
    )
  ).id;
  ids.runtime = runtime.id;
  ids.acrobat = (await created(await msp.post('/software', softwareBody('Acrobat', script.id)))).id;
  const deploy = async (item: string, target: Record<string, unknown>, state: string) =>
    (
      await created(
        await msp.post('/deployments', {
          maintenanceItem: { kind: 'software', id: item },
          target,
          desiredState: { state },
          enforcement: 'required',
        }),
      )
    ).id;
  ids.readerEverywhere = await deploy(ids.reader, { kind: 'all-computers' }, 'installed-latest');
  // The seeds' example: this customer uses Acrobat instead of Reader, on all its sites.
  ids.noReaderForCustomer = await deploy(
    ids.reader,
    { kind: 'tenant', tenantId: customer, includeChildTenants: true },
    'uninstalled',
  );
  ids.acrobatForCustomer = await deploy(
    ids.acrobat,
    { kind: 'tenant', tenantId: customer, includeChildTenants: true },
    'installed-latest',
  );

  // The projections have caught up once every computer resolves.
  await waitFor(
    async () => {
      for (const computerId of [siteComputer, customerComputer, selfManagedComputer]) {
        if ((await msp.get(`/computers/${computerId}/resolution`)).status !== 200) return false;
      }
      return true;
    },
    { timeoutMs: 20_000 },
  );
});

afterAll(async () => {
  client.close();
  await deployments.stop();
});

describe('resolution at the edge', () => {
  it("lets a customer's own tenant deployment beat the cross-tenant one, and explains why", async () => {
    const resolution = await preview(siteComputer);
    const reader = resolution.explanations.find((item) => item.maintenanceItem.id === ids.reader);
    expect(reader?.winnerDeploymentId).toBe(ids.noReaderForCustomer);
    expect(reader?.candidates).toEqual([
      { deploymentId: ids.noReaderForCustomer, outcome: 'ranked', rank: 1, decidedBy: 'scope' },
      { deploymentId: ids.readerEverywhere, outcome: 'ranked', rank: 2, decidedBy: 'scope' },
    ]);
    // Reader is to be uninstalled, so its runtime prerequisite is not pulled in.
    expect(resolution.plan.map((item) => item.maintenanceItem.id)).toEqual([ids.acrobat, ids.reader].sort());
  });

  it('keeps cross-tenant deployments away from a tenant excluded from them', async () => {
    const resolution = await preview(selfManagedComputer);
    expect(resolution.plan).toEqual([]);
    expect(resolution.explanations).toEqual([
      {
        maintenanceItem: { kind: 'software', id: ids.reader },
        winnerDeploymentId: null,
        candidates: [
          {
            deploymentId: ids.readerEverywhere,
            outcome: 'dropped',
            reason: 'tenant-excluded-from-cross-tenant',
          },
        ],
      },
    ]);
  });

  it('answers gRPC Resolve with exactly the plan the preview shows', async () => {
    for (const [computerId, tenantId] of [
      [siteComputer, site],
      [customerComputer, customer],
      [selfManagedComputer, selfManaged],
    ] as const) {
      const [overGrpc, previewed] = await Promise.all([
        resolveOverGrpc(computerId, tenantId),
        preview(computerId),
      ]);
      expect(planShape(overGrpc.items)).toEqual(previewShape(previewed));
    }
    const customerPlan = await resolveOverGrpc(customerComputer, customer);
    expect(
      customerPlan.items.map((item) => [item.maintenanceItemId, item.order, item.prerequisiteOf]),
    ).toEqual([ids.acrobat, ids.reader].sort().map((id, order) => [id, order, []]));
  });

  it('expands prerequisites first where the cross-tenant deployment wins', async () => {
    const extra = uniqueId('computer-extra');
    const tenant = uniqueId('tenant-plain');
    await deployments.bus.publish(tenantUpserted, tenantSnapshot({ tenantId: tenant }));
    await deployments.bus.publish(computerChanged, computerSnapshot({ computerId: extra, tenantId: tenant }));
    await waitFor(async () => (await msp.get(`/computers/${extra}/resolution`)).status === 200, {
      timeoutMs: 20_000,
    });
    const response = await resolveOverGrpc(extra, tenant);
    expect(
      response.items.map((item) => [item.maintenanceItemId, item.deploymentId, item.prerequisiteOf]),
    ).toEqual([
      [ids.runtime, '', [ids.reader]],
      [ids.reader, ids.readerEverywhere, []],
    ]);
    // The session reads the same link from the other side: the reader waits for its runtime.
    expect(response.items.map((item) => [item.name, item.prerequisites])).toEqual([
      ['VC++ runtime', []],
      ['Reader', [ids.runtime]],
    ]);
    // A prerequisite is installed at the catalog's newest version, like any "installed latest".
    expect(response.items.map((item) => [item.desiredState, item.desiredVersion])).toEqual([
      [DesiredState.INSTALLED_LATEST, '2.0'],
      [DesiredState.INSTALLED_LATEST, '2.0'],
    ]);
    expect(planShape(response.items)).toEqual(previewShape(await preview(extra)));
  });

  it('refuses a computer outside the asked tenant, and a call past its deadline', async () => {
    await expect(resolveOverGrpc(siteComputer, customer)).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    await expect(resolveOverGrpc(siteComputer, site, Date.now() - 1)).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
  });

  it('refuses a request that does not name the session and agent its secrets are sealed to', async () => {
    for (const binding of [
      { sessionId: '', agentId: agentOf(siteComputer) },
      { sessionId, agentId: '' },
    ]) {
      await expect(
        resolveOverGrpc(siteComputer, site, Date.now() + 5_000, SessionKind.FULL, binding),
      ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    }
  });

  it('lists the computers a deployment wins on, a page at a time', async () => {
    const first = (await (
      await msp.get(`/deployments/${ids.acrobatForCustomer}/winning-computers?limit=1`)
    ).json()) as { items: { computerId: string }[]; nextCursor: string | null };
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = (await (
      await msp.get(
        `/deployments/${ids.acrobatForCustomer}/winning-computers?limit=1&cursor=${first.nextCursor ?? ''}`,
      )
    ).json()) as { items: { computerId: string }[]; nextCursor: string | null };
    expect([...first.items, ...second.items].map((item) => item.computerId).sort()).toEqual(
      [siteComputer, customerComputer].sort(),
    );
    expect(second.nextCursor).toBeNull();

    const crossTenant = (await (
      await msp.get(`/deployments/${ids.readerEverywhere}/winning-computers?limit=200`)
    ).json()) as { items: { computerId: string }[] };
    const winners = crossTenant.items.map((item) => item.computerId);
    for (const loser of [siteComputer, customerComputer, selfManagedComputer])
      expect(winners).not.toContain(loser);
  });

  it('applies computer snapshots only when newer, so a late, older one changes nothing', async () => {
    const computerId = uniqueId('computer-versions');
    await deployments.bus.publish(
      computerChanged,
      computerSnapshot({ computerId, tenantId: site, version: 2, excludedFromMaintenance: true }),
    );
    await deployments.bus.publish(
      computerChanged,
      computerSnapshot({ computerId, tenantId: site, version: 1 }),
    );
    const marker = uniqueId('computer-marker');
    await deployments.bus.publish(computerChanged, computerSnapshot({ computerId: marker, tenantId: site }));
    // Events of one partition are applied in order; the marker may sit on another, so wait for both.
    await waitFor(async () => (await msp.get(`/computers/${marker}/resolution`)).status === 200, {
      timeoutMs: 20_000,
    });
    await waitFor(async () => (await msp.get(`/computers/${computerId}/resolution`)).status === 200, {
      timeoutMs: 20_000,
    });
    const resolution = await preview(computerId);
    expect(resolution.plan).toEqual([]);
    for (const item of resolution.explanations) {
      for (const candidate of item.candidates)
        expect(candidate).toMatchObject({ reason: 'computer-excluded-from-maintenance' });
    }
  });
});

describe('what a maintenance session gets from Resolve', () => {
  // Computers of their own tenant, so the deployments below reach nothing the tests above look at.
  const tenant = uniqueId('tenant-sessions');
  const pinned = uniqueId('computer-pinned');
  const latest = uniqueId('computer-latest');
  const broken = uniqueId('computer-broken');
  const secret = `s3cr3t-${uniqueId('api-key')}`;
  const item: Record<string, string> = {};
  const script: Record<string, { id: string }> = {};

  const scriptOf = (planned: PlannedItem | undefined, step: ScriptStep) =>
    planned?.scripts.find((candidate) => candidate.step === step);

  beforeAll(async () => {
    const post = async (path: string, body: unknown) => created(await msp.post(path, body));
    const deploy = (id: string, kind: string, target: unknown, desiredState: unknown, extra = {}) =>
      post('/deployments', {
        maintenanceItem: { kind, id },
        target,
        desiredState,
        enforcement: 'required',
        ...extra,
      });
    await deployments.bus.publish(tenantUpserted, tenantSnapshot({ tenantId: tenant }));
    await deployments.bus.publishMany(
      computerChanged,
      [pinned, latest, broken].map((computerId) => computerSnapshot({ computerId, tenantId: tenant })),
    );

    const [detect, install, installOne, upgrade, uninstall, test, set, combined] = await Promise.all([
      post('/scripts', { name: 'Detect editor', ...powershellScript }),
      post('/scripts', {
        name: 'Install editor',
        language: 'pwsh',
        executionContext: 'system',
        body: 'Start-Process msiexec -ArgumentList /i',
        timeoutSeconds: 900,
      }),
      post('/scripts', {
        name: 'Install editor 1.0',
        language: 'bash',
        executionContext: 'user',
        body: 'installer --legacy "$INSTALLER"',
        timeoutSeconds: 120,
      }),
      post('/scripts', {
        name: 'Upgrade editor',
        language: 'sh',
        executionContext: 'system',
        body: 'upgrade-editor',
        timeoutSeconds: 600,
      }),
      post('/scripts', {
        name: 'Uninstall editor',
        language: 'cmd',
        executionContext: 'system',
        body: 'msiexec /x {EDITOR}',
        timeoutSeconds: 60,
      }),
      post('/scripts', { name: 'Test firewall', ...powershellScript, body: 'Test-Firewall' }),
      post('/scripts', { name: 'Set firewall', ...powershellScript, body: 'Set-Firewall' }),
      post('/scripts', {
        name: 'Baseline',
        language: 'powershell',
        executionContext: 'metascript',
        body: 'param($method) Invoke-Baseline $method',
        timeoutSeconds: 30,
      }),
    ]);
    Object.assign(script, { detect, install, installOne, upgrade, uninstall, test, set, combined });

    item.editor = (
      await post('/software', {
        name: 'Editor',
        detectionScriptId: detect.id,
        installScriptId: install.id,
        uninstallScriptId: uninstall.id,
        upgradeScriptId: upgrade.id,
        upgradeStrategy: 'upgrade-script',
        rebootNeeded: false,
        // 3.0 is the newest: versions compare by number, not as text (2.10 > 2.9, 3.0 > 2.10).
        versions: [
          { version: '2.10', installerReference: 'https://example.test/2.10.msi' },
          {
            version: '1.0',
            installerReference: 'https://example.test/1.0.msi',
            installScriptId: installOne.id,
          },
          { version: '3.0', installerReference: 'https://example.test/3.0.msi' },
        ],
        prerequisites: [],
      })
    ).id;
    item.noInstaller = (
      await post('/software', { ...softwareBody('Detect-only tool', detect.id), installScriptId: null })
    ).id;
    item.firewall = (
      await post('/maintenance-tasks', {
        name: 'Firewall',
        targetCategory: 'computer',
        testScriptId: test.id,
        setScriptId: set.id,
        parameters: [
          { name: 'Port', type: 'number', defaultValue: 443 },
          { name: 'Mode', type: 'select', options: ['strict', 'relaxed'], defaultValue: 'relaxed' },
          { name: 'Enabled', type: 'boolean' },
          { name: 'ApiKey', type: 'secret', required: true },
          { name: 'Headers', type: 'key-value', defaultValue: [{ key: 'X-Env', value: 'prod' }] },
          { name: 'Note', type: 'text' },
        ],
      })
    ).id;
    item.baseline = (
      await post('/maintenance-tasks', {
        name: 'Baseline',
        targetCategory: 'computer',
        combinedScriptId: combined.id,
        parameters: [],
      })
    ).id;

    const everyComputer = { kind: 'tenant', tenantId: tenant, includeChildTenants: false };
    await deploy(item.editor, 'software', everyComputer, { state: 'installed-version', version: '1.0' });
    await deploy(
      item.editor,
      'software',
      { kind: 'computer', computerId: latest },
      { state: 'installed-latest' },
    );
    await deploy(
      item.noInstaller,
      'software',
      { kind: 'computer', computerId: broken },
      { state: 'installed-latest' },
    );
    item.firewallDeployment = (
      await deploy(
        item.firewall,
        'maintenance-task',
        everyComputer,
        { state: 'enforced' },
        { parameterValues: { Mode: 'strict', Enabled: true, ApiKey: secret } },
      )
    ).id;
    await deploy(item.baseline, 'maintenance-task', everyComputer, { state: 'enforced' });

    await waitFor(
      async () => {
        for (const computerId of [pinned, latest, broken]) {
          if ((await msp.get(`/computers/${computerId}/resolution`)).status !== 200) return false;
        }
        return true;
      },
      { timeoutMs: 20_000 },
    );
  });

  it('names each item and gives a pinned version its own install script, with body, language and context', async () => {
    const response = await resolveOverGrpc(pinned, tenant);
    const editor = response.items.find((planned) => planned.maintenanceItemId === item.editor);
    expect(editor).toMatchObject({
      name: 'Editor',
      desiredState: DesiredState.INSTALLED_VERSION,
      desiredVersion: '1.0',
      parameters: {},
      sealedParameters: {},
    });
    expect(editor?.scripts.map((step) => step.step)).toEqual([
      ScriptStep.DETECT,
      ScriptStep.INSTALL,
      ScriptStep.UPGRADE,
    ]);
    expect(scriptOf(editor, ScriptStep.DETECT)).toMatchObject({
      scriptId: script.detect?.id,
      language: ScriptLanguage.POWERSHELL,
      executionContext: ScriptExecutionContext.SYSTEM,
      body: powershellScript.body,
      timeoutSeconds: 300,
      methodParameter: false,
    });
    // Version 1.0's own install script overrides the software's.
    expect(scriptOf(editor, ScriptStep.INSTALL)).toMatchObject({
      scriptId: script.installOne?.id,
      language: ScriptLanguage.BASH,
      executionContext: ScriptExecutionContext.USER,
      body: 'installer --legacy "$INSTALLER"',
      timeoutSeconds: 120,
    });
    expect(scriptOf(editor, ScriptStep.UPGRADE)).toMatchObject({
      scriptId: script.upgrade?.id,
      language: ScriptLanguage.SH,
      timeoutSeconds: 600,
    });
  });

  it('fills in the newest catalog version for "installed latest", with the software\'s own scripts', async () => {
    const response = await resolveOverGrpc(latest, tenant);
    const editor = response.items.find((planned) => planned.maintenanceItemId === item.editor);
    expect(editor).toMatchObject({ desiredState: DesiredState.INSTALLED_LATEST, desiredVersion: '3.0' });
    expect(scriptOf(editor, ScriptStep.INSTALL)).toMatchObject({
      scriptId: script.install?.id,
      language: ScriptLanguage.PWSH,
      timeoutSeconds: 900,
    });
  });

  it("passes a task the deployment's parameter values over its defaults, the secret sealed for the session's agent", async () => {
    const response = await resolveOverGrpc(pinned, tenant);
    const firewall = response.items.find((planned) => planned.maintenanceItemId === item.firewall);
    expect(firewall).toMatchObject({
      name: 'Firewall',
      deploymentId: item.firewallDeployment,
      desiredState: DesiredState.ENFORCED,
      desiredVersion: '',
    });
    // Note has neither value nor default, so the script's own default applies.
    expect(firewall?.parameters).toEqual({
      Port: '443',
      Mode: 'strict',
      Enabled: 'true',
      Headers: JSON.stringify([{ key: 'X-Env', value: 'prod' }]),
    });
    // Only the gateway's key opens the secret, and only for the tenant, agent and session it was asked for.
    const sealed = firewall?.sealedParameters ?? {};
    expect(Object.keys(sealed)).toEqual(['ApiKey']);
    expect(JSON.stringify(response)).not.toContain(secret);
    const binding = { tenantId: tenant, agentId: agentOf(pinned), sessionId };
    expect(deployments.commandSecrets.open(binding, sealed)).toEqual({ ApiKey: secret });
    expect(() => deployments.commandSecrets.open({ ...binding, agentId: agentOf(latest) }, sealed)).toThrow();
    expect(() => deployments.commandSecrets.open({ ...binding, sessionId: 'another' }, sealed)).toThrow();
    expect(
      firewall?.scripts.map((step) => [step.step, step.scriptId, step.body, step.methodParameter]),
    ).toEqual([
      [ScriptStep.TEST, script.test?.id, 'Test-Firewall', false],
      [ScriptStep.SET, script.set?.id, 'Set-Firewall', false],
    ]);
    // The service never writes the unsealed value to its logs.
    expect(JSON.stringify(deployments.service.logs)).not.toContain(secret);
  });

  it('hands an enforced task with one combined script that script for test and for set, told the method', async () => {
    const response = await resolveOverGrpc(pinned, tenant);
    const baseline = response.items.find((planned) => planned.maintenanceItemId === item.baseline);
    expect(
      baseline?.scripts.map((step) => [
        step.step,
        step.scriptId,
        step.executionContext,
        step.methodParameter,
      ]),
    ).toEqual([
      [ScriptStep.TEST, script.combined?.id, ScriptExecutionContext.METASCRIPT, true],
      [ScriptStep.SET, script.combined?.id, ScriptExecutionContext.METASCRIPT, true],
    ]);
  });

  it('runs the current body of a script edited after the plan was last resolved', async () => {
    await resolveOverGrpc(latest, tenant);
    const edited = await msp.put(`/scripts/${script.test?.id ?? ''}`, {
      version: 1,
      name: 'Test firewall',
      ...powershellScript,
      body: 'Test-Firewall -Strict',
    });
    expect(edited.status).toBe(200);
    const response = await resolveOverGrpc(latest, tenant);
    const firewall = response.items.find((planned) => planned.maintenanceItemId === item.firewall);
    expect(scriptOf(firewall, ScriptStep.TEST)?.body).toBe('Test-Firewall -Strict');
  });

  it('refuses a plan whose software lacks the install script its state needs, naming item and step', async () => {
    const refusal = resolveOverGrpc(broken, tenant);
    await expect(refusal).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    await expect(refusal).rejects.toThrow(
      `Detect-only tool (${item.noInstaller ?? ''}) has no install script`,
    );
    // Detecting needs no installer: a detection-only session still gets its plan.
    const detection = await resolveOverGrpc(broken, tenant, Date.now() + 5_000, SessionKind.DETECTION_ONLY);
    const tool = detection.items.find((planned) => planned.maintenanceItemId === item.noInstaller);
    expect(tool?.scripts.map((step) => step.step)).toEqual([ScriptStep.DETECT]);
  });
});
