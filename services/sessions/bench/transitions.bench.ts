/**
 * Pure part of the sessions target: drives 10,000 sessions of 10 actions each through the state machine
 * in-process (detection, execution, verification, report), answering every command as an agent would.
 * Prints one line of JSON. Run: node services/sessions/bench/transitions.bench.ts
 */
import type { AgentCommand, MaintenanceSession, PlannedItem } from '../src/domain/maintenance-session.ts';
import { applySessionEvent, createSession } from '../src/domain/session-transitions.ts';
import { seededRandom } from '@converge/testing';

const sessionCount = 10_000;
const actionsPerSession = 10;
const targetCpuMsPerAction = 1;

const random = seededRandom(20_260_101);

function plan(): PlannedItem[] {
  return Array.from({ length: actionsPerSession }, (_, i): PlannedItem => {
    const id = `item-${i}`;
    const base = {
      id,
      name: id,
      prerequisites: i > 0 && random() < 0.3 ? [`item-${i - 1}`] : [],
      timeoutSeconds: 900,
      parameters: {},
    };
    if (random() < 0.2)
      return { ...base, kind: 'task', mode: 'enforce', scripts: { test: 'test', set: 'set' } };
    return {
      ...base,
      kind: 'software',
      desiredState: { state: 'installed-latest', version: '2.4.1' },
      scripts: { detect: 'detect', install: 'install', uninstall: 'uninstall' },
    };
  });
}

/** What a computer answers: mostly absent or outdated software and non-compliant tasks, with some failures. */
function agentAnswer(command: Extract<AgentCommand, { type: 'run-script' }>): {
  exitCode: number;
  lastLine: string;
} {
  const failed = random() < 0.03;
  switch (command.step) {
    case 'detect':
      return { exitCode: 0, lastLine: random() < 0.5 ? '' : random() < 0.5 ? '2.3.9' : '2.4.1' };
    case 'verify':
      return { exitCode: 0, lastLine: failed ? '2.3.9' : '2.4.1' };
    case 'test':
      return { exitCode: 0, lastLine: random() < 0.6 ? 'false' : 'true' };
    case 'retest':
      return { exitCode: 0, lastLine: failed ? 'false' : 'true' };
    default:
      return { exitCode: failed ? 1 : 0, lastLine: 'done' };
  }
}

const plans = Array.from({ length: sessionCount }, plan);
let transitions = 0;
const statuses = new Map<string, number>();

const cpuBefore = process.cpuUsage();
const started = performance.now();
for (let s = 0; s < sessionCount; s++) {
  let now = 1_800_000_000_000;
  let { session } = createSession(
    {
      id: `session-${s}`,
      tenantId: 'tenant',
      computerId: `computer-${s}`,
      agentId: `agent-${s}`,
      kind: 'full',
      trigger: 'schedule',
    },
    now,
  );
  let outbox: AgentCommand[] = [];
  const step = (next: { session: MaintenanceSession; commands: AgentCommand[] }): void => {
    session = next.session;
    outbox.push(...next.commands);
    transitions++;
  };
  step(applySessionEvent(session, { type: 'plan-received', items: plans[s] ?? [] }, now));
  while (outbox.length > 0) {
    const pending = outbox;
    outbox = [];
    for (const command of pending) {
      if (command.type !== 'run-script') continue;
      now += 1000;
      step(
        applySessionEvent(
          session,
          { type: 'output-chunk', commandId: command.commandId, seq: 0, data: 'working\n' },
          now,
        ),
      );
      const answer = agentAnswer(command);
      step(
        applySessionEvent(
          session,
          { type: 'command-result', commandId: command.commandId, outcome: 'completed', ...answer },
          now,
        ),
      );
    }
  }
  statuses.set(session.status, (statuses.get(session.status) ?? 0) + 1);
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;
const actions = sessionCount * actionsPerSession;
const cpuMsPerAction = cpuMs / actions;

console.log(
  JSON.stringify({
    bench: 'session-transitions',
    sessions: sessionCount,
    actions,
    transitions,
    seconds: Number(seconds.toFixed(2)),
    statuses: Object.fromEntries(statuses),
    cpu_ms_per_action: Number(cpuMsPerAction.toFixed(4)),
    target_cpu_ms_per_action: targetCpuMsPerAction,
    met: cpuMsPerAction <= targetCpuMsPerAction,
  }),
);
