import { getAccessToken } from '@converge/testing';
import { dashboardUrl } from './local-dashboard.ts';

/** Calls the public API through the dashboard's origin as the MSP's partner integration (an MSP admin). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${dashboardUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await getAccessToken('partner')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** The one computer of this run whose name starts with `prefix` (each agent of the local system has one). */
export async function computerNamed(prefix: string): Promise<{ id: string; name: string }> {
  const page = await api<{ items: { id: string; name: string }[] }>(
    'GET',
    `/computers?name=${encodeURIComponent(prefix)}&limit=1`,
  );
  const [computer] = page.items;
  if (computer === undefined) throw new Error(`no computer named ${prefix}*`);
  return computer;
}

/**
 * A maintenance task whose test script prints `lines` numbered lines, `intervalSeconds` apart, and then
 * reports compliance, deployed to one computer: its next full session runs the script.
 */
export async function deployTaskTo(
  computerId: string,
  name: string,
  lines: number,
  intervalSeconds: number,
): Promise<void> {
  const script = await api<{ id: string }>('POST', '/scripts', {
    name: `${name} test`,
    language: 'bash',
    executionContext: 'system',
    body: `for i in $(seq 1 ${lines}); do echo "${name} line $i"; sleep ${intervalSeconds}; done\necho true\n`,
    timeoutSeconds: 600,
  });
  const task = await api<{ id: string }>('POST', '/maintenance-tasks', {
    name,
    targetCategory: 'computer',
    testScriptId: script.id,
    parameters: [],
  });
  await api('POST', '/deployments', {
    maintenanceItem: { kind: 'maintenance-task', id: task.id },
    target: { kind: 'computer', computerId },
    desiredState: { state: 'audited' },
    enforcement: 'required',
  });
}
