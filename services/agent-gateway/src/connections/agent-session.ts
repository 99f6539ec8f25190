import {
  agentConnected,
  agentDisconnected,
  agentFactsReported,
  commandCompleted,
  commandOutputChunk,
  type AgentDisconnected,
  type CommandIds,
} from '@converge/contracts';
import {
  AgentMessageSchema,
  create,
  fromBinary,
  GatewayMessageSchema,
  toBinary,
  type AgentMessage,
  type AgentFacts,
} from '@converge/proto';
import type { Logger } from '@converge/telemetry';
import { commandCompletedEvent, outputChunkEvent } from '../domain/agent-command.ts';
import { agentVersionOf, factsReport } from '../domain/agent-facts.ts';
import type { Presence } from '../domain/presence.ts';
import type { PresenceStore } from '../presence/presence-store.ts';
import type { EventQueue } from '../publishing/event-queue.ts';
import type { AgentConnection, AuthenticatedAgent, CloseReason, SessionInput } from './agent-connection.ts';

/** What every session of a replica shares. */
export interface SessionContext {
  replicaId: string;
  heartbeatIntervalMs: number;
  logger: Logger;
  events: EventQueue;
  presence: PresenceStore;
  /** Tells the commands issued to an agent from any others (packages/contracts command-ids.ts). */
  commandIds: CommandIds;
  /** Counts a report of a command that was not issued to the reporting agent. */
  onForeignReport(): void;
  /** Called once the Hello arrived: the registry makes this the agent's current session. */
  onHello(session: AgentSession): void;
  /** Called once the connection is gone. */
  onClosed(session: AgentSession): void;
}

const disconnectReasons: Record<CloseReason, AgentDisconnected['reason']> = {
  'frame-too-large': 'error',
  'malformed-frame': 'error',
  'idle-timeout': 'heartbeat-timeout',
  'credential-revoked': 'error',
  superseded: 'superseded',
  'going-away': 'replica-draining',
  'slow-agent': 'error',
};

/**
 * The protocol of one agent connection, the same for every transport: Hello first (then Welcome and the
 * connected and facts events), heartbeats, output and results published under the credential's agent
 * and tenant, and a disconnected event when it ends. Facts go to Kafka only: identity owns computers, and
 * the gateway writes nothing to its store per connection. Output and results are keyed by their session,
 * which consumes them partitioned by session id.
 */
export class AgentSession implements SessionInput {
  readonly agent: AuthenticatedAgent;
  readonly connection: AgentConnection;
  readonly openedAtMs: number;
  lastFrameAtMs: number;
  /** Set once a Drain frame went out: the agent is expected to leave. */
  drainSent = false;
  private readonly ctx: SessionContext;
  private reports = 0;
  private closeReason: CloseReason | undefined;
  private ended = false;
  private foreignReportLogged = false;

  constructor(connection: AgentConnection, agent: AuthenticatedAgent, ctx: SessionContext, nowMs: number) {
    this.connection = connection;
    this.agent = agent;
    this.ctx = ctx;
    this.openedAtMs = nowMs;
    this.lastFrameAtMs = nowMs;
  }

  get greeted(): boolean {
    return this.reports > 0;
  }

  get presence(): Presence {
    return { replica: this.ctx.replicaId, epoch: this.agent.epoch, connectedSinceMs: this.openedAtMs };
  }

  send(message: Parameters<typeof create<typeof GatewayMessageSchema>>[1]): void {
    this.sendEncoded(toBinary(GatewayMessageSchema, create(GatewayMessageSchema, message)));
  }

  sendEncoded(frame: Uint8Array): void {
    if (!this.ended) this.connection.send(frame);
  }

  close(reason: CloseReason): void {
    if (this.ended || this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.connection.close(reason);
  }

  frame(bytes: Uint8Array): void {
    if (this.ended || this.closeReason !== undefined) return;
    this.lastFrameAtMs = Date.now();
    let message: AgentMessage;
    try {
      message = fromBinary(AgentMessageSchema, bytes);
    } catch {
      this.refused('malformed-frame');
      return;
    }
    const { kind } = message;
    if (!this.greeted && kind.case !== 'hello') {
      this.refused('malformed-frame');
      return;
    }
    switch (kind.case) {
      case 'hello':
        this.hello(kind.value.facts);
        return;
      case 'heartbeat':
        return;
      case 'outputChunk': {
        if (!this.issuedToThisAgent(kind.value.commandId, kind.value.sessionId)) return;
        const event = outputChunkEvent(kind.value, this.agent);
        if (!commandOutputChunk.schema.safeParse(event).success) {
          this.refused('malformed-frame');
          return;
        }
        this.ctx.events.enqueue(commandOutputChunk, {
          subject: event.sessionId,
          tenantId: event.tenantId,
          data: event,
        });
        return;
      }
      case 'commandResult': {
        if (!this.issuedToThisAgent(kind.value.commandId, kind.value.sessionId)) return;
        const mapped = commandCompletedEvent(kind.value, this.agent, new Date());
        if (!mapped.ok || !commandCompleted.schema.safeParse(mapped.event).success) {
          this.refused('malformed-frame');
          return;
        }
        const { event } = mapped;
        this.ctx.events.enqueue(commandCompleted, {
          subject: event.sessionId,
          tenantId: event.tenantId,
          data: event,
        });
        return;
      }
      default:
        this.refused('malformed-frame');
    }
  }

  /**
   * An agent reports only on commands issued to it: a result or output for another agent's command, or for an
   * id it made up, is dropped here and never reaches Kafka. Logged once per connection, counted every time.
   */
  private issuedToThisAgent(commandId: string, sessionId: string): boolean {
    if (this.ctx.commandIds.refOf(this.agent.agentId, sessionId, commandId) !== null) return true;
    this.ctx.onForeignReport();
    if (!this.foreignReportLogged) {
      this.foreignReportLogged = true;
      this.ctx.logger.warn(
        {
          agentId: this.agent.agentId,
          commandId: commandId.slice(0, 256),
          sessionId: sessionId.slice(0, 128),
        },
        'report of a command not issued to this agent dropped',
      );
    }
    return false;
  }

  refused(reason: 'malformed-frame' | 'frame-too-large'): void {
    this.ctx.logger.info(
      { agentId: this.agent.agentId, reason },
      'agent frame refused, closing its connection',
    );
    this.close(reason);
  }

  closed(): void {
    if (this.ended) return;
    this.ended = true;
    this.ctx.onClosed(this);
    if (!this.greeted) return;
    this.ctx.presence.disconnected(this.agent.agentId, this.presence);
    const reason =
      this.closeReason === undefined
        ? this.drainSent
          ? 'replica-draining'
          : 'agent-closed'
        : disconnectReasons[this.closeReason];
    this.ctx.events.enqueue(agentDisconnected, {
      subject: this.agent.agentId,
      tenantId: this.agent.tenantId,
      data: { ...this.identity(), reason, disconnectedAt: new Date().toISOString() },
    });
  }

  private identity() {
    return {
      agentId: this.agent.agentId,
      tenantId: this.agent.tenantId,
      epoch: this.agent.epoch,
      replica: this.ctx.replicaId,
    };
  }

  private hello(facts: AgentFacts | undefined): void {
    const now = new Date();
    const mapped = factsReport(facts, this.identity(), this.reports + 1, now);
    if (!mapped.ok || !agentFactsReported.schema.safeParse(mapped.report).success) {
      this.refused('malformed-frame');
      return;
    }
    const first = !this.greeted;
    this.reports++;
    const { agentId, tenantId } = this.agent;
    if (first) {
      this.send({
        kind: { case: 'welcome', value: { agentId, heartbeatIntervalMs: this.ctx.heartbeatIntervalMs } },
      });
      this.ctx.onHello(this);
      this.ctx.presence.connected(agentId, this.presence);
      this.ctx.events.enqueue(agentConnected, {
        subject: agentId,
        tenantId,
        data: {
          ...this.identity(),
          transport: this.connection.transport,
          agentVersion: agentVersionOf(facts),
          connectedAt: new Date(this.openedAtMs).toISOString(),
        },
      });
    }
    this.ctx.events.enqueue(agentFactsReported, { subject: agentId, tenantId, data: mapped.report });
  }
}
