#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CommandExecutor } from './command-executor.ts';
import { loadAgentConfig, type AgentConfig } from './config.ts';
import { AgentConnection } from './connection/agent-connection.ts';
import type { ChannelTransport } from './connection/agent-channel.ts';
import { grpcTransport } from './connection/grpc-channel.ts';
import { OutboundQueue } from './connection/outbound-queue.ts';
import { ReconnectBackoff } from './connection/reconnect-backoff.ts';
import { websocketTransport } from './connection/websocket-channel.ts';
import {
  credentialExists,
  credentialPath,
  readCredential,
  writeCredential,
  type Credential,
} from './credential-file.ts';
import { enroll } from './enrollment.ts';
import { applyFactsOverride, collectFacts, readFactsOverride, toAgentFacts } from './facts/collect-facts.ts';
import { listLoggedOnSessions } from './facts/logged-on-users.ts';
import { createLogger, type Logger } from './logger.ts';
import { findInterpreters } from './scripts/interpreters.ts';
import { defaultOutputLimits } from './scripts/output-stream.ts';
import { ScriptRunner } from './scripts/script-runner.ts';
import { resolveUserContext } from './scripts/user-context.ts';

const usage = `usage:
  converge-agent enroll --server <url> --token <install token> [--grpc <host:port>] [--state-dir <dir>]
                        [--facts <json file>] [--force]
  converge-agent run [--transport websocket|grpc] [--grpc <host:port>] [--state-dir <dir>] [--facts <json file>]`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      grpc: { type: 'string' },
      'state-dir': { type: 'string' },
      facts: { type: 'string' },
      force: { type: 'boolean', default: false },
      transport: { type: 'string', default: 'websocket' },
    },
    strict: true,
  });
  const config = loadAgentConfig();
  const logger = createLogger({ level: config.logLevel });
  const stateDir = values['state-dir'] ?? config.stateDir;
  const factsFile = values.facts;

  switch (command) {
    case 'enroll': {
      const { server, token } = values;
      if (!server || !token) throw new UsageError('enroll needs --server and --token');
      if (!/^https?:\/\//.test(server)) throw new UsageError('--server must be an http:// or https:// URL');
      return runEnroll({
        server,
        token,
        grpcAddress: values.grpc ?? null,
        stateDir,
        factsFile,
        force: values.force,
        config,
        logger,
      });
    }
    case 'run': {
      const transport = values.transport;
      if (transport !== 'websocket' && transport !== 'grpc') {
        throw new UsageError('--transport must be websocket or grpc');
      }
      return runAgent({ transport, grpcAddress: values.grpc, stateDir, factsFile, config, logger });
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
}

async function factsCollector(factsFile: string | undefined, config: AgentConfig) {
  const override = factsFile ? await readFactsOverride(factsFile) : {};
  return async () => toAgentFacts(applyFactsOverride(await collectFacts(), override), config.agentVersion);
}

async function runEnroll(options: {
  server: string;
  token: string;
  grpcAddress: string | null;
  stateDir: string;
  factsFile: string | undefined;
  force: boolean;
  config: AgentConfig;
  logger: Logger;
}): Promise<number> {
  const { stateDir, logger } = options;
  // Checked before enrolling too, so a forgotten --force does not use up one of the token's enrollments.
  if (!options.force && (await credentialExists(stateDir))) {
    throw new UsageError(`${credentialPath(stateDir)} already exists; pass --force to enroll again`);
  }
  const facts = await (await factsCollector(options.factsFile, options.config))();
  const { agentId, credentialSecret } = await enroll({
    server: options.server,
    installToken: options.token,
    facts,
  });
  const credential: Credential = {
    server: options.server,
    grpcAddress: options.grpcAddress,
    agentId,
    credentialSecret,
  };
  await writeCredential(stateDir, credential, { force: options.force });
  logger.info({ agentId, credentialFile: credentialPath(stateDir) }, 'enrolled');
  return 0;
}

async function runAgent(options: {
  transport: 'websocket' | 'grpc';
  grpcAddress: string | undefined;
  stateDir: string;
  factsFile: string | undefined;
  config: AgentConfig;
  logger: Logger;
}): Promise<number> {
  const { config, logger } = options;
  const credential = await readCredential(options.stateDir);
  const collect = await factsCollector(options.factsFile, config);
  const interpreters = findInterpreters();
  logger.info(
    {
      agentId: credential.agentId,
      version: config.agentVersion,
      transport: options.transport,
      languages: [...interpreters.keys()],
    },
    'agent starting',
  );

  let transport: ChannelTransport;
  if (options.transport === 'grpc') {
    const address = options.grpcAddress ?? credential.grpcAddress;
    if (!address)
      throw new UsageError('--transport grpc needs --grpc <host:port> (or an enrollment with --grpc)');
    transport = grpcTransport(credential, address);
  } else {
    transport = websocketTransport(credential, { handshakeTimeoutMs: 15_000, keepaliveMs: 30_000 });
  }

  const runner = new ScriptRunner({
    interpreters,
    resolveUserContext: () => resolveUserContext(listLoggedOnSessions),
    outputLimits: defaultOutputLimits,
    killGraceMs: 3000,
    tempDir: config.tempDir,
    systemEnvironment: process.env,
  });
  const outbound = new OutboundQueue(
    { maxQueuedChunkBytes: 8 * 1024 * 1024, maxQueuedResults: 1000 },
    logger,
  );
  const executor = new CommandExecutor({
    runner,
    sink: outbound,
    logger,
    rememberedCommands: 1000,
    defaultTimeoutMs: 60 * 60 * 1000,
  });
  const connection = new AgentConnection({
    transport,
    outbound,
    commands: executor,
    collectFacts: collect,
    backoff: new ReconnectBackoff(),
    logger,
    welcomeTimeoutMs: 30_000,
    factsRefreshMs: 60_000,
  });

  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    stopping ??= (async () => {
      logger.info({ signal, running: executor.runningCount }, 'agent stopping');
      await connection.shutdown(async () => {
        await executor.stop('the agent is stopping');
        await outbound.drained(5000);
      });
    })();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await connection.run();
  await stopping;
  logger.info({ unsent: outbound.size }, 'agent stopped');
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`converge-agent: ${error.message}\n${usage}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`converge-agent: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
