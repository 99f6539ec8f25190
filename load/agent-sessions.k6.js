// Agent sessions against a running gateway, over WebSocket and gRPC: each virtual user is one enrolled agent
// that connects, says Hello, waits for its Welcome, heartbeats at the interval the Welcome names, answers
// every Command with a completed CommandResult at once, and closes after SESSION_SECONDS. See README.md.
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import grpc from 'k6/net/grpc';
import { clearInterval, setInterval, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import {
  COMMAND_OUTCOME_COMPLETED,
  DEVICE_TYPE_WORKSTATION,
  OS_FAMILY_LINUX,
  commandResultFrame,
  heartbeatFrame,
  helloFrame,
  readGatewayMessage,
} from './agent-frames.js';

const env = (name, fallback) => __ENV[name] || fallback;
const wsUrl = `${env('GATEWAY_WS_URL', 'ws://127.0.0.1:8114')}/agent/v1/connect`;
const grpcAddress = env('GATEWAY_GRPC_ADDRESS', '127.0.0.1:8124');
const transport = env('TRANSPORT', 'both'); // websocket | grpc | both
const vus = Number(env('VUS', '50'));
const duration = env('DURATION', '1m');
const sessionSeconds = Number(env('SESSION_SECONDS', '30'));

// Written by services/agent-gateway/bench/enroll-fleet.ts: { agents: [{ agentId, tenantId, credential }] }.
const agents = JSON.parse(open(env('CREDENTIALS', './fleet.json'))).agents;

const welcomeMs = new Trend('agent_welcome_ms', true);
const commandsAnswered = new Counter('agent_commands_answered');
const drains = new Counter('agent_drains');

const scenario = (exec) => ({
  executor: 'constant-vus',
  exec,
  vus,
  duration,
  gracefulStop: `${sessionSeconds + 5}s`,
});
const scenarios = {};
if (transport !== 'grpc') scenarios.websocket = scenario('websocketSession');
if (transport !== 'websocket') scenarios.grpc = scenario('grpcSession');

export const options = {
  scenarios,
  thresholds: {
    checks: ['rate>0.99'],
    agent_welcome_ms: ['p(99)<1000'],
  },
};

const grpcClient = new grpc.Client();
grpcClient.load(['../proto'], 'agent/v1/agent.proto');

/** Each VU is one agent: VU ids are unique across scenarios, so no two sessions share a credential. */
function agentOfThisVu() {
  const agent = agents[(__VU - 1) % agents.length];
  if (__VU > agents.length)
    throw new Error(`${__VU} VUs need as many enrolled agents (have ${agents.length})`);
  return agent;
}

function factsOf(agent) {
  return {
    hardwareUuid: `00000000-0000-4000-8000-${agent.agentId
      .replace(/[^0-9a-f]/gi, '')
      .slice(-12)
      .padStart(12, '0')}`,
    serialNumber: `K6-${__VU}`,
    manufacturer: 'k6',
    model: 'load',
    osInstallId: agent.agentId,
    hostname: `k6-${__VU}`,
    osFamily: OS_FAMILY_LINUX,
    osName: 'Ubuntu 24.04 LTS',
    osVersion: '24.04',
    deviceType: DEVICE_TYPE_WORKSTATION,
    loggedOnUpns: [],
    agentVersion: 'k6',
  };
}

export function websocketSession() {
  const agent = agentOfThisVu();
  const startedAt = Date.now();
  let welcomed = false;
  let heartbeats;
  const socket = new WebSocket(wsUrl, null, { headers: { authorization: `Bearer ${agent.credential}` } });
  socket.binaryType = 'arraybuffer';
  socket.addEventListener('open', () => {
    socket.send(helloFrame(factsOf(agent)));
    setTimeout(() => socket.close(), sessionSeconds * 1000);
  });
  socket.addEventListener('message', (event) => {
    const message = readGatewayMessage(event.data);
    if (message.kind === 'welcome') {
      welcomed = true;
      welcomeMs.add(Date.now() - startedAt, { transport: 'websocket' });
      heartbeats = setInterval(() => socket.send(heartbeatFrame()), message.heartbeatIntervalMs);
    } else if (message.kind === 'command') {
      socket.send(
        commandResultFrame({
          commandId: message.id,
          sessionId: message.sessionId,
          outcome: COMMAND_OUTCOME_COMPLETED,
          exitCode: 0,
          finalOutputLine: 'ok',
          durationMs: 1,
        }),
      );
      commandsAnswered.add(1, { transport: 'websocket' });
    } else if (message.kind === 'drain') {
      drains.add(1, { transport: 'websocket' });
      socket.close();
    }
  });
  socket.addEventListener('close', () => {
    if (heartbeats !== undefined) clearInterval(heartbeats);
    check(welcomed, { 'websocket session welcomed': (ok) => ok });
  });
}

export function grpcSession() {
  const agent = agentOfThisVu();
  if (__ITER === 0) grpcClient.connect(grpcAddress, { plaintext: true });
  const startedAt = Date.now();
  let welcomed = false;
  let heartbeats;
  const stream = new grpc.Stream(grpcClient, 'converge.agent.v1.AgentGatewayService/Connect', {
    metadata: { authorization: `Bearer ${agent.credential}` },
  });
  stream.on('data', (message) => {
    if (message.welcome) {
      welcomed = true;
      welcomeMs.add(Date.now() - startedAt, { transport: 'grpc' });
      heartbeats = setInterval(
        () => stream.write({ heartbeat: {} }),
        Number(message.welcome.heartbeatIntervalMs),
      );
    } else if (message.command) {
      stream.write({
        commandResult: {
          commandId: message.command.id,
          sessionId: message.command.sessionId,
          outcome: 'COMMAND_OUTCOME_COMPLETED',
          exitCode: 0,
          finalOutputLine: 'ok',
          durationMs: 1,
        },
      });
      commandsAnswered.add(1, { transport: 'grpc' });
    } else if (message.drain) {
      drains.add(1, { transport: 'grpc' });
      stream.end();
    }
  });
  const finished = () => {
    if (heartbeats !== undefined) clearInterval(heartbeats);
    heartbeats = undefined;
  };
  stream.on('error', (error) => {
    finished();
    console.warn(`grpc session of ${agent.agentId}: ${error.message}`);
  });
  stream.on('end', () => {
    finished();
    check(welcomed, { 'grpc session welcomed': (ok) => ok });
  });
  const facts = factsOf(agent);
  stream.write({
    hello: { facts: { ...facts, osFamily: 'OS_FAMILY_LINUX', deviceType: 'DEVICE_TYPE_WORKSTATION' } },
  });
  setTimeout(() => stream.end(), sessionSeconds * 1000);
}
