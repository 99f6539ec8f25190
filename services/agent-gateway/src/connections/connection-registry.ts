import type { AgentConnection, AuthenticatedAgent, CloseReason } from './agent-connection.ts';
import { AgentSession, type SessionContext } from './agent-session.ts';

export interface RegistryOptions {
  idleTimeoutMs: number;
  helloTimeoutMs: number;
  /** Bytes queued for one agent beyond which it is dropped instead of buffered for. */
  sendBufferLimit: number;
  session: Omit<SessionContext, 'onHello' | 'onClosed'>;
  /** An agent said Hello here: older connections of it elsewhere must close (superseded). */
  onGreeted(session: AgentSession): void;
}

export type Delivery = 'sent' | 'absent' | 'dropped';

/**
 * The agents connected to this replica. A session becomes the agent's current one when its Hello arrives;
 * an older connection of the same agent is then closed as superseded. One sweep timer enforces the Hello
 * and idle timeouts for every connection, so a connection costs no timer of its own.
 */
export class ConnectionRegistry {
  private readonly opts: RegistryOptions;
  private readonly context: SessionContext;
  private readonly waitingForHello = new Set<AgentSession>();
  private readonly current = new Map<string, AgentSession>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(opts: RegistryOptions) {
    this.opts = opts;
    this.context = {
      ...opts.session,
      onHello: (session) => {
        this.greeted(session);
      },
      onClosed: (session) => {
        this.waitingForHello.delete(session);
        if (this.current.get(session.agent.agentId) === session) this.current.delete(session.agent.agentId);
      },
    };
    const sweepEveryMs = Math.max(100, Math.min(opts.idleTimeoutMs, opts.helloTimeoutMs) / 4);
    this.sweepTimer = setInterval(() => {
      this.sweep(Date.now());
    }, sweepEveryMs);
  }

  /** A connection whose credential was verified; it waits for its Hello. */
  open(connection: AgentConnection, agent: AuthenticatedAgent): AgentSession {
    const session = new AgentSession(connection, agent, this.context, Date.now());
    this.waitingForHello.add(session);
    return session;
  }

  /** Connected agents (said Hello). */
  get size(): number {
    return this.current.size;
  }

  /** Every open connection, greeted or not. */
  sessions(): AgentSession[] {
    return [...this.current.values(), ...this.waitingForHello];
  }

  has(agentId: string): boolean {
    return this.current.has(agentId);
  }

  /** The agent's current connection here, if it has one. */
  sessionOf(agentId: string): AgentSession | undefined {
    return this.current.get(agentId);
  }

  /** Sends an encoded frame to the agent's current connection, if it is here and reading. */
  deliver(agentId: string, frame: Uint8Array): Delivery {
    const session = this.current.get(agentId);
    return session === undefined ? 'absent' : this.deliverTo(session, frame);
  }

  /** Sends an encoded frame to a connection of this registry, unless the agent stopped reading it. */
  deliverTo(session: AgentSession, frame: Uint8Array): Delivery {
    if (session.connection.bufferedBytes() + frame.byteLength > this.opts.sendBufferLimit) {
      session.close('slow-agent');
      return 'dropped';
    }
    session.sendEncoded(frame);
    return 'sent';
  }

  /** Closes the agent's connection here if its epoch is below `beforeEpoch` (any epoch when omitted). */
  closeAgent(agentId: string, reason: CloseReason, beforeEpoch = Number.POSITIVE_INFINITY): boolean {
    const session = this.current.get(agentId);
    if (session === undefined || session.agent.epoch >= beforeEpoch) return false;
    session.close(reason);
    return true;
  }

  /** The agent's credential was revoked: every connection of it here closes, greeted or not. */
  closeRevoked(agentId: string): void {
    this.current.get(agentId)?.close('credential-revoked');
    for (const session of this.waitingForHello) {
      if (session.agent.agentId === agentId) session.close('credential-revoked');
    }
  }

  closeAll(reason: CloseReason): void {
    for (const session of this.sessions()) session.close(reason);
  }

  stop(): void {
    clearInterval(this.sweepTimer);
  }

  private greeted(session: AgentSession): void {
    this.waitingForHello.delete(session);
    const { agentId } = session.agent;
    const older = this.current.get(agentId);
    if (older !== undefined && older !== session) {
      if (older.agent.epoch > session.agent.epoch) {
        session.close('superseded');
        return;
      }
      older.close('superseded');
    }
    this.current.set(agentId, session);
    this.opts.onGreeted(session);
  }

  private sweep(nowMs: number): void {
    for (const session of this.waitingForHello) {
      if (nowMs - session.openedAtMs > this.opts.helloTimeoutMs) session.close('idle-timeout');
    }
    for (const session of this.current.values()) {
      if (nowMs - session.lastFrameAtMs > this.opts.idleTimeoutMs) session.close('idle-timeout');
    }
  }
}
