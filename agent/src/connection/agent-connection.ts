import {
  AgentMessageSchema,
  create,
  toBinary,
  type AgentFacts,
  type Command,
  type GatewayMessage,
} from '@converge/proto';
import type { Logger } from '../logger.ts';
import { ChannelRefusedError, type AgentChannel, type ChannelTransport } from './agent-channel.ts';
import type { OutboundQueue } from './outbound-queue.ts';
import type { ReconnectBackoff } from './reconnect-backoff.ts';

export interface CommandHandler {
  handleCommand(command: Command): void;
  cancel(commandId: string, reason: string): void;
}

export interface AgentConnectionOptions {
  transport: ChannelTransport;
  outbound: OutboundQueue;
  commands: CommandHandler;
  /** The computer's facts now: collected for every Hello. */
  collectFacts(): Promise<AgentFacts>;
  backoff: ReconnectBackoff;
  logger: Logger;
  /** A gateway that accepted the connection but sends no Welcome within this is given up on. */
  welcomeTimeoutMs: number;
  /** How often facts are collected again while connected; a change is reported with a new Hello. */
  factsRefreshMs: number;
  now?: () => number;
}

interface ConnectionEnd {
  /** How long the agent was welcomed on this connection (0 if it never was). */
  connectedForMs: number;
  reason: string;
  drainAfterMs?: number;
  retryAfterMs?: number;
}

// A gateway that forgets to say: the interval gateways use by default.
const fallbackHeartbeatMs = 30_000;

/**
 * The agent's side of docs/agent-connection.md: connect, Hello, wait for Welcome, heartbeat, hand commands to
 * the executor, obey Drain, and after any end reconnect with backoff (or after the delay a Drain asked for)
 * until shut down.
 */
export class AgentConnection {
  readonly #options: AgentConnectionOptions;
  readonly #now: () => number;
  #stopping = false;
  #current: AgentChannel | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** The facts last reported, encoded, to notice a change. */
  #lastFacts: Uint8Array | undefined;

  constructor(options: AgentConnectionOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Connects, and keeps reconnecting until shutdown(); resolves once shut down. */
  run(): Promise<void> {
    this.#loop ??= this.#runLoop();
    return this.#loop;
  }

  /**
   * Stops reconnecting, lets `settle` finish (cancel scripts, send their results) while the current channel
   * is still up, then closes it.
   */
  async shutdown(settle: () => Promise<void>): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await settle();
    this.#current?.close('agent stopping');
    await this.#loop;
    this.#options.transport.dispose();
  }

  async #runLoop(): Promise<void> {
    const { backoff, logger, transport } = this.#options;
    while (!this.#isStopping()) {
      const end = await this.#connectOnce();
      if (this.#isStopping()) break;
      let delayMs: number;
      if (end.drainAfterMs !== undefined) {
        backoff.reset();
        delayMs = end.drainAfterMs;
      } else {
        delayMs = Math.max(backoff.next(end.connectedForMs), end.retryAfterMs ?? 0);
      }
      logger.info(
        { transport: transport.name, reason: end.reason, reconnectInMs: delayMs },
        end.connectedForMs > 0 ? 'disconnected' : 'could not connect',
      );
      await this.#sleep(delayMs);
    }
  }

  async #connectOnce(): Promise<ConnectionEnd> {
    const { transport, outbound, commands, logger, welcomeTimeoutMs } = this.#options;
    let resolveEnd!: (end: ConnectionEnd) => void;
    const ended = new Promise<ConnectionEnd>((resolve) => (resolveEnd = resolve));
    let channel: AgentChannel | undefined;
    let welcomedAt: number | undefined;
    let drainAfterMs: number | undefined;
    const timers: NodeJS.Timeout[] = [];

    const onMessage = (message: GatewayMessage): void => {
      const kind = message.kind;
      switch (kind.case) {
        case 'welcome': {
          if (welcomedAt !== undefined || !channel) return;
          welcomedAt = this.#now();
          const heartbeatMs = kind.value.heartbeatIntervalMs || fallbackHeartbeatMs;
          const live = channel;
          timers.push(
            setInterval(() => {
              this.#heartbeat(live);
            }, heartbeatMs),
          );
          timers.push(setInterval(() => void this.#refreshFacts(live), this.#options.factsRefreshMs));
          logger.info(
            {
              transport: transport.name,
              agentId: kind.value.agentId,
              heartbeatIntervalMs: heartbeatMs,
              queued: outbound.size,
            },
            'connected',
          );
          outbound.attach(live);
          return;
        }
        case 'command':
          if (welcomedAt === undefined) return;
          commands.handleCommand(kind.value);
          return;
        case 'cancel':
          commands.cancel(kind.value.commandId, 'cancelled on request');
          return;
        case 'drain':
          drainAfterMs = kind.value.reconnectAfterMs;
          logger.info({ reconnectAfterMs: drainAfterMs, reason: kind.value.reason }, 'gateway draining');
          channel?.close('draining');
          return;
        case undefined:
          // A frame kind newer than this agent: ignored, so gateways can add kinds without breaking agents.
          return;
      }
    };

    try {
      channel = await transport.open({
        onMessage,
        onClose: ({ reason }) => {
          resolveEnd({
            connectedForMs: welcomedAt === undefined ? 0 : this.#now() - welcomedAt,
            reason,
            ...(drainAfterMs === undefined ? {} : { drainAfterMs }),
          });
        },
      });
    } catch (error) {
      if (error instanceof ChannelRefusedError) {
        return {
          connectedForMs: 0,
          reason: error.message,
          ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
        };
      }
      throw error;
    }
    this.#current = channel;
    const opened = channel;
    const welcomeTimer = setTimeout(() => {
      if (welcomedAt === undefined) opened.close('no welcome');
    }, welcomeTimeoutMs);
    if (this.#stopping) channel.close('agent stopping');
    else void this.#sendHello(channel);

    const end = await ended;
    clearTimeout(welcomeTimer);
    for (const timer of timers) clearInterval(timer);
    outbound.detach(channel);
    this.#current = undefined;
    return end;
  }

  async #sendHello(channel: AgentChannel): Promise<void> {
    try {
      const facts = await this.#options.collectFacts();
      this.#lastFacts = toBinary(AgentMessageSchema, hello(facts));
      await channel.send(hello(facts));
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'could not send hello');
      channel.close('hello failed');
    }
  }

  /** A user logged on or off (or another fact changed): the gateway hears it now, not at the next reconnect. */
  async #refreshFacts(channel: AgentChannel): Promise<void> {
    try {
      const message = hello(await this.#options.collectFacts());
      const encoded = toBinary(AgentMessageSchema, message);
      if (this.#lastFacts && Buffer.from(encoded).equals(this.#lastFacts)) return;
      this.#lastFacts = encoded;
      await channel.send(message);
      this.#options.logger.info({}, 'facts changed; hello sent');
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'could not refresh facts');
    }
  }

  #heartbeat(channel: AgentChannel): void {
    channel
      .send(create(AgentMessageSchema, { kind: { case: 'heartbeat', value: {} } }))
      .catch(() => undefined);
  }

  #isStopping(): boolean {
    return this.#stopping;
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#stopping) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }
}

function hello(facts: AgentFacts) {
  return create(AgentMessageSchema, { kind: { case: 'hello', value: { facts } } });
}
