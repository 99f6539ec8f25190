// Publishes the gateway bench's commands, as its own process (`fork`, IPC channel): it stands in for the
// services that publish commands, which would run on other machines, so it runs at a lower priority and the
// gateway, the fleet and the broker get this machine's shared cores first. Commands are built before the clock
// starts and go out every few milliseconds, each time what the schedule owes by then, as an outbox relay sends
// them; it reports when each was published (the start of its Kafka-to-socket time).
//
//   node bench/command-publisher.ts --credentials fleet.json --topic-prefix <prefix> [--rate 5000]
//                                   [--seconds 10] [--seed 7]
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createBus, type OutgoingEvent } from '@converge/bus';
import { agentCommandRequested, type AgentCommandRequested } from '@converge/contracts';
import { createLogger } from '@converge/telemetry';
import { seededRandom, stack } from '@converge/testing';
import { benchCommand } from './bench-commands.ts';
import type { CredentialsFile, PublisherInstruction, PublisherReport } from './bench-messages.ts';
import { wallClockMs } from './latency.ts';

const { values } = parseArgs({
  options: {
    credentials: { type: 'string' },
    'topic-prefix': { type: 'string', default: '' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '10' },
    seed: { type: 'string', default: '7' },
  },
});
if (!values.credentials) throw new Error('--credentials is required');
const fleet = JSON.parse(readFileSync(values.credentials, 'utf8')) as CredentialsFile;
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const seed = Number(values.seed);
// Raising one's own niceness needs no privilege.
const niceness = 10;
const publishTickMs = 5;
// A behind schedule publisher catches up in requests of at most this many, well under the broker's 1 MB limit.
const maxPerRequest = 500;

setPriority(niceness);

function report(message: PublisherReport): void {
  process.send?.(message);
}

const bus = createBus({
  brokers: [...stack.kafkaBrokers],
  clientId: 'gateway-bench-publisher',
  source: 'gateway-bench',
  logger: createLogger({ service: 'gateway-bench', level: 'warn' }),
  topicPrefix: values['topic-prefix'],
});
await bus.connect();

async function publishAll(prefix: string): Promise<void> {
  const random = seededRandom(seed);
  const now = new Date();
  const total = rate * seconds;
  const commands: OutgoingEvent<AgentCommandRequested>[] = Array.from({ length: total }, (_, n) => {
    const agent = fleet.agents[Math.floor(random() * fleet.agents.length)]!;
    return {
      subject: agent.agentId,
      tenantId: agent.tenantId,
      data: benchCommand(agent, `${prefix}-${n}`, now),
    };
  });
  let published = 0;
  const startedAt = performance.now();
  while (published < total) {
    const owed = Math.min(total, Math.floor(((performance.now() - startedAt) / 1000) * rate));
    const upTo = Math.min(owed, published + maxPerRequest);
    if (upTo > published) {
      const batch = commands.slice(published, upTo);
      const at = wallClockMs();
      await bus.publishMany(agentCommandRequested, batch);
      report({ type: 'published', items: batch.map((event) => [event.data.commandId, at]) });
      published = upTo;
    }
    // Straight on while behind schedule, otherwise wait for the next tick's commands.
    if (owed <= published) await delay(publishTickMs);
  }
  report({ type: 'done', seconds: (performance.now() - startedAt) / 1000 });
}

process.on('message', (instruction: PublisherInstruction) => {
  if (instruction.type === 'publish') {
    void publishAll(instruction.prefix);
    return;
  }
  void bus.disconnect().finally(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
report({ type: 'ready' });
