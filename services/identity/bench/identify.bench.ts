// Identification decisions per second, in one run (`npm run bench:identify`):
// 1. pure: the domain function alone (no store, no bus). The inputs (what the edge would have looked up) are
//    built first from a seeded PRNG, so every run decides the same mix; only the decisions are timed.
// 2. end to end: agents' facts events published to Kafka first (12 partitions, as `npm start` makes them), then
//    the real service process routes them by identity key, decides each batch in its owner and stores it in
//    FerretDB (one fenced bulk write and one insert per batch, docs/architecture.md §9); timed from the service
//    being ready until every identified agent's `computer identified` event is back on Kafka and every failure
//    is stored. The store operations the service sent meanwhile (its `store_operations_total` counter) are
//    printed per decision. The count is IDENTIFY_E2E_AGENTS (default 100,000: a few minutes here).
// Prints one JSON line last, with the figures, the targets and whether each was met.
import type { Computer } from '../src/domain/computer.ts';
import { computerOf, factsOf, policy } from '../src/domain/computer.fixtures.ts';
import { identifyComputer, type IdentificationInput } from '../src/domain/identification.ts';
import { seededRandom } from '@converge/testing';
import { measureEndToEnd } from './identify-end-to-end.ts';

const agents = 100_000;
const rounds = 5; // best of several passes, so the JIT warm-up is not what is measured

const random = seededRandom(42);
const hex = (digits: number) =>
  Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');
const randomUuid = () => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`.toUpperCase();

const scenarios = ['new', 'known-refresh', 'new-provider', 'reinstall', 'wiped', 'bad-uuid'] as const;
type Scenario = (typeof scenarios)[number];
const mix: Record<Scenario, number> = {
  new: 0.3,
  'known-refresh': 0.35,
  'new-provider': 0.1,
  reinstall: 0.1,
  wiped: 0.05,
  'bad-uuid': 0.1,
};

function pick(): Scenario {
  let roll = random();
  for (const scenario of scenarios) {
    roll -= mix[scenario];
    if (roll < 0) return scenario;
  }
  return 'new';
}

function inputFor(index: number, scenario: Scenario): IdentificationInput {
  const hardwareUuid = randomUuid();
  const agentId = `agent-${index}`;
  const facts = factsOf({ agentId, hardwareUuid, tenantId: `tenant-${index % 500}`, version: 2 });
  const known: Computer = computerOf(
    { id: `computer-${index}`, hardwareUuid: hardwareUuid.toLowerCase() },
    factsOf({ agentId, hardwareUuid, version: 1 }),
  );
  const base = {
    policy,
    onboardingEnabledForTenant: index % 10 !== 0,
    newComputerId: `computer-new-${index}`,
  };
  const none = { ofAgent: null, byHardwareUuid: [], bySerialNumber: [] };
  switch (scenario) {
    case 'new':
      return { ...base, facts, known: none };
    case 'known-refresh':
      return { ...base, facts, known: { ...none, ofAgent: known, byHardwareUuid: [known] } };
    case 'new-provider':
      return {
        ...base,
        facts: { ...facts, agentId: `rmm-${index}`, provider: 'cw-automate' },
        known: { ...none, byHardwareUuid: [known] },
      };
    case 'reinstall':
      return {
        ...base,
        facts: { ...facts, agentId: `agent-${index}-b` },
        known: { ...none, byHardwareUuid: [known] },
      };
    case 'wiped':
      return {
        ...base,
        facts: { ...facts, osInstallId: `install-${index}` },
        known: { ...none, ofAgent: known },
      };
    case 'bad-uuid':
      return {
        ...base,
        facts: { ...facts, hardwareUuid: '03000200-0400-0500-0006-000700080009', manufacturer: 'Generic' },
        known: none,
      };
  }
}

const inputs = Array.from({ length: agents }, (_, index) => inputFor(index, pick()));

const decisions = new Map<string, number>();
let bestSeconds = Number.POSITIVE_INFINITY;
for (let round = 0; round < rounds; round++) {
  decisions.clear();
  const started = process.hrtime.bigint();
  for (const input of inputs) {
    const kind = identifyComputer(input).kind;
    decisions.set(kind, (decisions.get(kind) ?? 0) + 1);
  }
  bestSeconds = Math.min(bestSeconds, Number(process.hrtime.bigint() - started) / 1e9);
}

const pureMet = [...decisions.values()].reduce((sum, count) => sum + count, 0) === agents;
const endToEnd = await measureEndToEnd(Number(process.env.IDENTIFY_E2E_AGENTS ?? agents), seededRandom(7));
const targets = {
  pure: { agents, note: 'issue 4: every decision made over 100,000 agents' },
  end_to_end: {
    agents,
    decisions_per_second: 1_000,
    note: 'issue 11: 100,000 agents, completed, 1,000 decisions/s',
  },
};

console.log(
  `end to end: ${endToEnd.agents} agents in ${endToEnd.seconds} s, ${endToEnd.decisions_per_second} decisions/s, ` +
    `${endToEnd.store_operations.per_decision} store operations per decision ` +
    `(${endToEnd.store_operations.total}: ${JSON.stringify(endToEnd.store_operations.by_command)})`,
);
console.log(
  JSON.stringify({
    bench: 'identify',
    pure: {
      agents,
      rounds,
      seconds: Number(bestSeconds.toFixed(4)),
      decisions_per_second: Math.round(agents / bestSeconds),
      decisions: Object.fromEntries([...decisions].sort()),
    },
    end_to_end: endToEnd,
    targets,
    met: {
      pure: pureMet,
      end_to_end_agents: endToEnd.completed && endToEnd.agents >= targets.end_to_end.agents,
      end_to_end_rate:
        endToEnd.completed && endToEnd.decisions_per_second >= targets.end_to_end.decisions_per_second,
    },
  }),
);
