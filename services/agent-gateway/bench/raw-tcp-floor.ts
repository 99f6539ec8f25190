// The raw-TCP floor of the gateway bench, run as its own process (`fork`, IPC channel): the least memory per
// connection and the fastest accepts any transport could have in Node. Same messages as the gateway, framed
// with a 4-byte length prefix and nothing else: the first frame is the agent's `<agent id>.<secret>` (taken at
// its word: no credential lookup, no presence, no events), then Hello → Welcome. Commands come from
// `gateway.commands` through the same bus and the same Command mapping the gateway uses, in its own consumer
// group, and dispatch time is measured from the handler's start to the socket write, as exact samples.
//
//   node bench/raw-tcp-floor.ts --group <consumer group> [--topic-prefix <prefix>] [--partitions 12]
//                               [--port 0] [--heartbeat-interval 30000]
import net from 'node:net';
import { parseArgs } from 'node:util';
import { createBus, isEvent } from '@converge/bus';
import { agentCommandRequested, topics } from '@converge/contracts';
import { AgentMessageSchema, GatewayMessageSchema, create, fromBinary, toBinary } from '@converge/proto';
import { createLogger } from '@converge/telemetry';
import { stack } from '@converge/testing';
import { commandFrame } from '../src/domain/agent-command.ts';
import { commandConsumerTuning } from '../src/entry-points/kafka/commands.consumer.ts';
import type { FloorInstruction, FloorReport } from './bench-messages.ts';
import { framed, frameReader } from './frames.ts';
import { quantilesOf } from './latency.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    group: { type: 'string' },
    'topic-prefix': { type: 'string', default: '' },
    partitions: { type: 'string', default: '12' },
    'heartbeat-interval': { type: 'string', default: '30000' },
  },
});
if (!values.group) throw new Error('--group is required');
const heartbeatIntervalMs = Number(values['heartbeat-interval']);

function report(message: FloorReport): void {
  process.send?.(message);
}

const sockets = new Map<string, net.Socket>();
let connections = 0;
let welcomed = 0;
let dispatchMs = new Float64Array(1 << 16);
let dispatched = 0;

function recordDispatch(ms: number): void {
  if (dispatched === dispatchMs.length) {
    const grown = new Float64Array(dispatchMs.length * 2);
    grown.set(dispatchMs);
    dispatchMs = grown;
  }
  dispatchMs[dispatched++] = ms;
}

const server = net.createServer({ noDelay: true }, (socket) => {
  connections++;
  let agentId: string | undefined;
  let helloed = false;
  const read = frameReader('length', (frame) => {
    if (agentId === undefined) {
      agentId = frame.toString('utf8').split('.', 1)[0] ?? '';
      sockets.get(agentId)?.destroy(); // superseded
      sockets.set(agentId, socket);
      return;
    }
    const message = fromBinary(AgentMessageSchema, frame).kind;
    if (message.case === 'hello' && !helloed) {
      helloed = true;
      welcomed++;
      socket.write(
        framed(
          'length',
          toBinary(
            GatewayMessageSchema,
            create(GatewayMessageSchema, {
              kind: { case: 'welcome', value: { agentId, heartbeatIntervalMs } },
            }),
          ),
        ),
      );
    }
    // Heartbeats and results need nothing from a floor.
  });
  socket.on('data', (chunk) => {
    try {
      read(chunk);
    } catch {
      socket.destroy();
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    connections--;
    if (helloed) welcomed--;
    if (agentId !== undefined && sockets.get(agentId) === socket) sockets.delete(agentId);
  });
});
// The same accept queue length as a Node HTTP server's default.
server.listen({ host: '127.0.0.1', port: Number(values.port), backlog: 511 });
await new Promise((resolve) => server.once('listening', resolve));

const bus = createBus({
  brokers: [...stack.kafkaBrokers],
  clientId: 'raw-tcp-floor',
  source: 'raw-tcp-floor',
  logger: createLogger({ service: 'raw-tcp-floor', level: 'warn' }),
  topicPrefix: values['topic-prefix'],
});
await bus.connect();
const subscription = await bus.subscribe({
  groupId: values.group,
  topics: [topics.commands],
  // As the gateway consumes: every partition in parallel, with the same tuning.
  partitionsConsumedConcurrently: Number(values.partitions),
  ...commandConsumerTuning,
  handle: (event) => {
    const startedAt = performance.now();
    if (!isEvent(event, agentCommandRequested)) return Promise.resolve();
    const socket = sockets.get(event.data.agentId);
    if (socket) {
      socket.write(
        framed(
          'length',
          toBinary(
            GatewayMessageSchema,
            create(GatewayMessageSchema, { kind: { case: 'command', value: commandFrame(event.data) } }),
          ),
        ),
      );
      recordDispatch(performance.now() - startedAt);
    }
    return Promise.resolve();
  },
});

const address = server.address();
report({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });

process.on('message', (instruction: FloorInstruction) => {
  if (instruction.type === 'stats') {
    report({
      type: 'stats',
      connections,
      welcomed,
      dispatched,
      dispatchMs: quantilesOf(dispatchMs.subarray(0, dispatched)) ?? null,
    });
    dispatched = 0; // each stats request closes a measuring window
    return;
  }
  for (const socket of sockets.values()) socket.destroy();
  server.close();
  void subscription
    .stop()
    .then(() => bus.disconnect())
    .finally(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
