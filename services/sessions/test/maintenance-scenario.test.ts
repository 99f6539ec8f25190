import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueId, waitFor } from '@converge/testing';
import { startInstallation, workstationFacts, type Installation } from './scenario-harness.ts';

/**
 * Scenario 1 (issue 7) end to end: all five services and a real agent running real bash scripts. A tenant's
 * new workstation enrolls, is identified as a computer needing onboarding, and its onboarding session installs
 * Reader's prerequisite Package Manager, then Reader; later sessions find nothing to do, then update Reader
 * when the catalog gets a newer version, also while the sessions process is killed mid-execution.
 */

// The "computer" the scripts act on: marker files in a directory of this run.
const machine = mkdtempSync(join(tmpdir(), 'converge-scenario-machine-'));
const installsLog = join(machine, 'reader-installs.log');

function script(name: string, body: string) {
  return {
    name,
    language: 'bash',
    executionContext: 'system',
    body: `set -eu\nDIR='${machine}'\n${body}`,
    timeoutSeconds: 60,
  };
}

const scripts = {
  detectPackageManager: script('Detect Package Manager', 'if [ -f "$DIR/pm" ]; then cat "$DIR/pm"; fi'),
  installPackageManager: script('Install Package Manager', 'echo 1.0 > "$DIR/pm"'),
  uninstallPackageManager: script('Uninstall Package Manager', 'rm -f "$DIR/pm"'),
  detectReader: script('Detect Reader', 'if [ -f "$DIR/reader" ]; then cat "$DIR/reader"; fi'),
  // Every start of an install is logged first, so a script that ran twice shows up even if one run died.
  // Version 3.0's installer is slow, leaving time to crash the sessions process while it runs.
  installReader: script(
    'Install Reader',
    [
      'version="${CONVERGE_PARAM_VERSION:?no version given}"',
      'if [ ! -f "$DIR/pm" ]; then echo "Package Manager is not installed" >&2; exit 1; fi',
      'echo "$version" >> "$DIR/reader-installs.log"',
      'if [ "$version" = 3.0 ]; then sleep 3; fi',
      'echo "$version" > "$DIR/reader"',
      'echo "Reader $version installed"',
    ].join('\n'),
  ),
  uninstallReader: script('Uninstall Reader', 'rm -f "$DIR/reader"'),
};

interface SessionAction {
  id: string;
  name: string;
  type: string | null;
  status: string;
  result: string | null;
  reason: string | null;
  detected: string | null;
  desired: string | null;
  log: string[];
}

interface Session {
  id: string;
  kind: string;
  trigger: string;
  status: string;
  stage: string;
  reason: string | null;
  actions: SessionAction[];
}

/** Polls until `probe` gives a value (waitFor resolves only with one). */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  return (await waitFor(probe, patience)) as T;
}

const finalStatuses = ['passed', 'partially-passed', 'failed', 'cancelled', 'missed'];
const patience = { timeoutMs: 60_000, intervalMs: 200 };

let installation: Installation;
let tenantId: string;
let computerId: string;
let packageManagerId: string;
let reader: { id: string; body: Record<string, unknown> };

async function created(response: Promise<{ status: number; body: unknown }>): Promise<{ id: string }> {
  const { status, body } = await response;
  if (status !== 201) throw new Error(`expected 201, got ${String(status)}: ${JSON.stringify(body)}`);
  return body as { id: string };
}

async function createScript(body: ReturnType<typeof script>): Promise<string> {
  return (await created(installation.api('deployments', 'POST', '/scripts', body))).id;
}

function softwareBody(name: string, ids: { detect: string; install: string; uninstall: string }) {
  return {
    name,
    detectionScriptId: ids.detect,
    installScriptId: ids.install,
    uninstallScriptId: ids.uninstall,
    upgradeStrategy: 'install-over',
    rebootNeeded: false,
    versions: [{ version: '1.0', installerReference: `https://example.test/${name}/1.0` }],
    prerequisites: [] as unknown[],
  };
}

/** Adds a version to Reader's catalog entry: it becomes the latest, which the deployment asks for. */
async function addReaderVersion(version: string): Promise<void> {
  const current = await installation.api('deployments', 'GET', `/software/${reader.id}`);
  expect(current.status).toBe(200);
  const versions = [
    ...(reader.body.versions as unknown[]),
    { version, installerReference: `https://example.test/Reader/${version}` },
  ];
  reader.body = { ...reader.body, versions };
  const updated = await installation.api('deployments', 'PUT', `/software/${reader.id}`, {
    ...reader.body,
    version: (current.body as { version: number }).version,
  });
  expect(updated.status).toBe(200);
}

async function getSession(id: string): Promise<Session> {
  const { status, body } = await installation.api('sessions', 'GET', `/sessions/${id}`);
  if (status !== 200) throw new Error(`GET session ${id}: ${String(status)} ${JSON.stringify(body)}`);
  return body as Session;
}

async function finished(id: string): Promise<Session> {
  try {
    return await eventually(async () => {
      const session = await getSession(id);
      return finalStatuses.includes(session.status) ? session : undefined;
    });
  } catch (error) {
    const last = await getSession(id).catch(() => null);
    throw new Error(`session ${id} did not finish: ${JSON.stringify(last)}\n${installation.recentLogs()}`, {
      cause: error,
    });
  }
}

async function runFullSession(): Promise<string> {
  const { status, body } = await installation.api('sessions', 'POST', '/sessions', {
    computerIds: [computerId],
    kind: 'full',
  });
  expect({ status, body }).toMatchObject({ status: 202, body: { skipped: [] } });
  const { started } = body as { started: { sessionId: string; computerId: string }[] };
  expect(started).toHaveLength(1);
  return started[0]?.sessionId ?? '';
}

function installsOfReader(): string[] {
  return readFileSync(installsLog, 'utf8').trim().split('\n');
}

function summary(session: Session) {
  return {
    status: session.status,
    actions: session.actions.map(({ name, type, status, result, detected, desired }) => ({
      name,
      type,
      status,
      result,
      detected,
      desired,
    })),
  };
}

/** Reads the session's live view (server-sent events) until the server ends it. */
async function watchLive(id: string): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const response = await fetch(`${installation.services.sessions.baseUrl}/api/v1/sessions/${id}/live`, {
    headers: { authorization: `Bearer ${installation.token}` },
    signal: AbortSignal.timeout(patience.timeoutMs),
  });
  expect(response.status).toBe(200);
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .map((block) => {
      const [eventLine = '', dataLine = ''] = block.split('\n');
      return {
        event: eventLine.slice('event: '.length),
        data: JSON.parse(dataLine.slice('data: '.length)) as Record<string, unknown>,
      };
    });
}

beforeAll(async () => {
  installation = await startInstallation();

  tenantId = uniqueId('tenant-scenario');
  await created(
    installation.api('sync', 'POST', '/tenants', {
      id: tenantId,
      name: 'Scenario Ltd',
      settings: { onboardingEnabled: true, excludedFromCrossTenantDeployments: false },
    }),
  );

  const ids = Object.fromEntries(
    await Promise.all(
      Object.entries(scripts).map(async ([role, body]) => [role, await createScript(body)] as const),
    ),
  ) as Record<keyof typeof scripts, string>;
  packageManagerId = (
    await created(
      installation.api(
        'deployments',
        'POST',
        '/software',
        softwareBody('Package Manager', {
          detect: ids.detectPackageManager,
          install: ids.installPackageManager,
          uninstall: ids.uninstallPackageManager,
        }),
      ),
    )
  ).id;
  const readerBody = {
    ...softwareBody('Reader', {
      detect: ids.detectReader,
      install: ids.installReader,
      uninstall: ids.uninstallReader,
    }),
    prerequisites: [
      {
        condition: { when: 'not-installed', match: 'any-of', softwareIds: [packageManagerId] },
        action: { kind: 'install', softwareIds: [packageManagerId] },
      },
    ],
  };
  reader = {
    id: (await created(installation.api('deployments', 'POST', '/software', readerBody))).id,
    body: readerBody,
  };
  await created(
    installation.api('deployments', 'POST', '/deployments', {
      maintenanceItem: { kind: 'software', id: reader.id },
      target: { kind: 'all-computers' },
      deviceFilter: 'workstations-and-portable-devices',
      desiredState: { state: 'installed-latest' },
      enforcement: 'required',
    }),
  );
}, 120_000);

afterAll(async () => {
  // Unset when the start-up failed (it stops what it started itself).
  await (installation as Installation | undefined)?.stop();
}, 60_000);

describe('Scenario 1: a new workstation is onboarded and kept up to date by maintenance sessions', () => {
  it('identifies the enrolled agent as a new computer whose onboarding session installs Package Manager, then Reader, verifies both and passes', async () => {
    const facts = workstationFacts('SCENARIO-WS-1');
    const agent = await installation.startAgent(tenantId, facts);

    const computer = await eventually(async () => {
      const { body } = await installation.api('identity', 'GET', '/computers');
      const { items } = body as {
        items: { id: string; hardwareUuid: string; agents: { agentId: string }[] }[];
      };
      return items.find((item) => item.agents.some((link) => link.agentId === agent.agentId));
    });
    computerId = computer.id;

    const onboarding = await eventually(async () => {
      const { body } = await installation.api('sessions', 'GET', `/sessions?computerId=${computerId}`);
      return (body as { items: Session[] }).items.find((session) => session.kind === 'onboarding');
    });
    expect(onboarding).toMatchObject({ trigger: 'onboarding' });

    const session = await finished(onboarding.id);
    expect(summary(session)).toEqual({
      status: 'passed',
      actions: [
        {
          name: 'Package Manager',
          type: 'install',
          status: 'done',
          result: 'success',
          detected: '1.0',
          desired: '1.0',
        },
        {
          name: 'Reader',
          type: 'install',
          status: 'done',
          result: 'success',
          detected: '1.0',
          desired: '1.0',
        },
      ],
    });
    expect(session.actions[1]?.log).toContain('Reader 1.0 installed');
    expect(installsOfReader()).toEqual(['1.0']);

    await waitFor(async () => {
      const { body } = await installation.api('identity', 'GET', `/computers/${computerId}`);
      return (body as { onboardingStatus: string }).onboardingStatus === 'onboarded';
    }, patience);
  }, 120_000);

  it('finds nothing to do in a second full session', async () => {
    const session = await finished(await runFullSession());
    expect(summary(session)).toEqual({
      status: 'passed',
      actions: [
        {
          name: 'Package Manager',
          type: 'no-action',
          status: 'done',
          result: 'success',
          detected: '1.0',
          desired: '1.0',
        },
        {
          name: 'Reader',
          type: 'no-action',
          status: 'done',
          result: 'success',
          detected: '1.0',
          desired: '1.0',
        },
      ],
    });
    expect(installsOfReader()).toEqual(['1.0']);
  });

  it('updates Reader in the next session once the catalog has a newer version, streaming it live', async () => {
    await addReaderVersion('2.0');
    const sessionId = await runFullSession();
    const live = await watchLive(sessionId);

    const session = await finished(sessionId);
    expect(summary(session).actions[1]).toEqual({
      name: 'Reader',
      type: 'update',
      status: 'done',
      result: 'success',
      detected: '2.0',
      desired: '2.0',
    });
    expect(session.status).toBe('passed');
    expect(installsOfReader()).toEqual(['1.0', '2.0']);
    expect(live[0]?.event).toBe('session');
    const lastStatus = live.filter((message) => message.event === 'status').at(-1)?.data.status;
    expect(lastStatus ?? live[0]?.data.status).toBe('passed');
  });

  it('finishes the update when the sessions process is killed while the install runs, running no script twice', async () => {
    await addReaderVersion('3.0');
    const sessionId = await runFullSession();
    await waitFor(async () => {
      const session = await getSession(sessionId);
      const action = session.actions.find((candidate) => candidate.id === reader.id);
      return session.stage === 'execution' && action?.status === 'running' && action.type === 'update';
    }, patience);
    // The installer has started on the agent and not finished: its result can only reach the next process.
    await waitFor(() => installsOfReader().includes('3.0'), patience);
    expect(readFileSync(join(machine, 'reader'), 'utf8').trim()).toBe('2.0');

    await installation.crashAndRestartSessions();

    const session = await finished(sessionId);
    expect(summary(session)).toMatchObject({
      status: 'passed',
      actions: [
        { name: 'Package Manager', type: 'no-action' },
        { name: 'Reader', type: 'update', result: 'success', detected: '3.0', desired: '3.0' },
      ],
    });
    expect(installsOfReader()).toEqual(['1.0', '2.0', '3.0']);
  }, 150_000);
});
