import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import mongoose from 'mongoose';
import { stack, uniqueId, waitFor } from '@converge/testing';
import { startInstallation, workstationFacts, type Installation } from './scenario-harness.ts';

/**
 * Issue 12, item 1, end to end: all five services and a real agent. A maintenance task's secret parameters (one
 * set by the deployment, one the task's own default) reach the agent's script, and nowhere else in clear: not in
 * any database of the installation, any message of its Kafka topics, any service's or the agent's log, nor any
 * API response about the task, the deployment, the plan or the session.
 */

const machine = mkdtempSync(join(tmpdir(), 'converge-secret-machine-'));
// Values no other part of the run could produce by chance.
const deploymentSecret = `sentinel-deployment-${randomUUID()}`;
const defaultSecret = `sentinel-default-${randomUUID()}`;
const sentinels = [deploymentSecret, defaultSecret];

function script(name: string, body: string) {
  return {
    name,
    language: 'bash',
    executionContext: 'system',
    body: `set -eu\nDIR='${machine}'\n${body}`,
    timeoutSeconds: 60,
  };
}

// The script writes what it received where the test reads it, and never prints it.
const scripts = {
  test: script('Test API access', 'if [ -f "$DIR/api-key" ]; then echo true; else echo false; fi'),
  set: script(
    'Configure API access',
    [
      'printf %s "$CONVERGE_PARAM_APIKEY" > "$DIR/api-key"',
      'printf %s "$CONVERGE_PARAM_TOKEN" > "$DIR/token"',
      'echo "API access configured"',
    ].join('\n'),
  ),
};

const patience = { timeoutMs: 90_000, intervalMs: 250 };
const finalStatuses = ['passed', 'partially-passed', 'failed', 'cancelled', 'missed'];

let installation: Installation;
let tenantId: string;
let taskId: string;
let deploymentId: string;

async function created(response: Promise<{ status: number; body: unknown }>): Promise<{ id: string }> {
  const { status, body } = await response;
  if (status !== 201) throw new Error(`expected 201, got ${String(status)}: ${JSON.stringify(body)}`);
  return body as { id: string };
}

/** Every document of every database of the installation, as stored (BSON), so binary fields count too. */
async function databaseDump(prefix: string): Promise<Buffer[]> {
  const conn = await mongoose.createConnection(stack.mongoUri, { maxPoolSize: 2 }).asPromise();
  try {
    const client = conn.getClient();
    const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
    const ours = databases.map((db) => db.name).filter((name) => name.startsWith(`${prefix}_`));
    // All five services keep something, so a prefix that matched nothing would make the check vacuous.
    expect(ours.length).toBeGreaterThanOrEqual(5);
    const documents: Buffer[] = [];
    for (const name of ours) {
      const db = client.db(name);
      for (const { name: collection } of await db.listCollections({}, { nameOnly: true }).toArray()) {
        for (const doc of await db.collection(collection).find({}).toArray()) {
          documents.push(Buffer.from(mongoose.mongo.BSON.serialize(doc)));
        }
      }
    }
    return documents;
  } finally {
    await conn.close();
  }
}

/** Every message (key, value and headers) of every topic of the installation, read from the beginning. */
async function topicDump(prefix: string): Promise<Buffer[]> {
  const kafka = new Kafka({
    clientId: uniqueId('secret-reader'),
    brokers: [...stack.kafkaBrokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
  const remaining = new Map<string, number>();
  for (const topic of topics) {
    for (const { partition, offset, low } of await admin.fetchTopicOffsets(topic)) {
      if (Number(offset) > Number(low)) remaining.set(`${topic}/${String(partition)}`, Number(offset));
    }
  }
  await admin.disconnect();
  expect(topics.some((topic) => topic.endsWith('gateway.commands'))).toBe(true);

  const messages: Buffer[] = [];
  const consumer = kafka.consumer({ groupId: uniqueId('secret-reader') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        messages.push(message.key ?? Buffer.alloc(0), message.value ?? Buffer.alloc(0));
        for (const header of Object.values(message.headers ?? {})) {
          for (const value of [header].flat()) if (value !== undefined) messages.push(Buffer.from(value));
        }
        const key = `${topic}/${String(partition)}`;
        if (Number(message.offset) + 1 >= (remaining.get(key) ?? 0)) remaining.delete(key);
        return Promise.resolve();
      },
    });
    await waitFor(() => remaining.size === 0, { timeoutMs: 60_000, intervalMs: 100 });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

function leaks(haystacks: readonly (Buffer | string)[]): string[] {
  return sentinels.filter((sentinel) => haystacks.some((haystack) => haystack.includes(sentinel)));
}

beforeAll(async () => {
  installation = await startInstallation();

  tenantId = uniqueId('tenant-secrets');
  await created(
    installation.api('sync', 'POST', '/tenants', {
      id: tenantId,
      name: 'Secrets Ltd',
      settings: { onboardingEnabled: true, excludedFromCrossTenantDeployments: false },
    }),
  );
  const testScriptId = (await created(installation.api('deployments', 'POST', '/scripts', scripts.test))).id;
  const setScriptId = (await created(installation.api('deployments', 'POST', '/scripts', scripts.set))).id;
  taskId = (
    await created(
      installation.api('deployments', 'POST', '/maintenance-tasks', {
        name: 'API access',
        targetCategory: 'computer',
        testScriptId,
        setScriptId,
        parameters: [
          { name: 'ApiKey', type: 'secret', required: true },
          { name: 'Token', type: 'secret', defaultValue: defaultSecret },
        ],
      }),
    )
  ).id;
  deploymentId = (
    await created(
      installation.api('deployments', 'POST', '/deployments', {
        maintenanceItem: { kind: 'maintenance-task', id: taskId },
        target: { kind: 'tenant', tenantId, includeChildTenants: false },
        desiredState: { state: 'enforced' },
        enforcement: 'required',
        parameterValues: { ApiKey: deploymentSecret },
      }),
    )
  ).id;
}, 120_000);

afterAll(async () => {
  // Unset when the start-up failed (it stops what it started itself).
  await (installation as Installation | undefined)?.stop();
}, 60_000);

describe('secret task parameters are sealed from deployments to the agent', () => {
  it("reach the agent's script, and appear nowhere else in clear: databases, topics, logs and API answers", async () => {
    const agent = await installation.startAgent(tenantId, workstationFacts('SECRETS-WS-1'));
    const computerId = await waitFor(async () => {
      const { body } = await installation.api('identity', 'GET', '/computers');
      const { items } = body as { items: { id: string; agents: { agentId: string }[] }[] };
      return items.find((item) => item.agents.some((link) => link.agentId === agent.agentId))?.id;
    }, patience);

    const sessionId = await waitFor(async () => {
      const { body } = await installation.api(
        'sessions',
        'GET',
        `/sessions?computerId=${String(computerId)}`,
      );
      const { items } = body as { items: { id: string; status: string }[] };
      return items.find((session) => finalStatuses.includes(session.status))?.id;
    }, patience).catch((error: unknown) => {
      throw new Error(`no session finished:\n${installation.recentLogs()}`, { cause: error });
    });
    const session = await installation.api('sessions', 'GET', `/sessions/${String(sessionId)}`);
    expect(session.body).toMatchObject({
      status: 'passed',
      actions: [{ name: 'API access', status: 'done', result: 'success' }],
    });

    // The last hop: the agent's script got both values.
    expect(readFileSync(join(machine, 'api-key'), 'utf8')).toBe(deploymentSecret);
    expect(readFileSync(join(machine, 'token'), 'utf8')).toBe(defaultSecret);

    const answers = await Promise.all([
      installation.api('sessions', 'GET', `/sessions/${String(sessionId)}`),
      installation.api('sessions', 'GET', `/sessions?computerId=${String(computerId)}`),
      installation.api('deployments', 'GET', `/deployments/${deploymentId}`),
      installation.api('deployments', 'GET', `/maintenance-tasks/${taskId}`),
      installation.api('deployments', 'GET', `/computers/${String(computerId)}/resolution`),
    ]);
    for (const answer of answers) expect(answer.status).toBe(200);
    expect(leaks(answers.map((answer) => JSON.stringify(answer.body)))).toEqual([]);

    expect(leaks(await databaseDump(installation.databasePrefix))).toEqual([]);
    expect(leaks(await topicDump(installation.topicPrefix))).toEqual([]);

    const logs = [
      ...Object.values(installation.services).flatMap((service) =>
        service.logs.map((line) => JSON.stringify(line)),
      ),
      ...agent.logs,
    ];
    expect(logs.length).toBeGreaterThan(0);
    expect(leaks(logs)).toEqual([]);
  }, 240_000);
});
