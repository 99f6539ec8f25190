import { randomUUID } from 'node:crypto';
import { sessionActionUpdated, sessionLogLine, sessionStatusChanged } from '@converge/contracts';
import { isEvent, type Bus, type ReceivedEvent, type Subscription } from '@converge/bus';

export type LiveEvent =
  { event: 'status'; data: unknown } | { event: 'action'; data: unknown } | { event: 'log'; data: unknown };

type Listener = (event: LiveEvent) => void;

/**
 * Session events fanned out to the live views this replica serves. Every replica reads the whole topic in a
 * group of its own (a browser may be connected to any of them), from the moment it starts, and decodes only the
 * events of sessions someone watches here. The group's offsets matter to no one (the next process starts a new
 * group at the end), so they are committed seldom.
 */
export class SessionLiveFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscription: Subscription | undefined;

  async start(bus: Bus, opts: { groupPrefix: string; topic: string }): Promise<void> {
    this.subscription = await bus.subscribe({
      groupId: `${opts.groupPrefix}.live.${randomUUID()}`,
      topics: [opts.topic],
      fromBeginning: false,
      wanted: (sessionId) => this.listeners.has(sessionId),
      commitIntervalMs: 60_000,
      handle: (event) => {
        this.dispatch(event);
        return Promise.resolve();
      },
    });
  }

  /** Calls `listener` with each event of the session until the returned function is called. */
  watch(sessionId: string, listener: Listener): () => void {
    let set = this.listeners.get(sessionId);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sessionId);
    };
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  private dispatch(event: ReceivedEvent): void {
    let live: { sessionId: string; event: LiveEvent } | null = null;
    if (isEvent(event, sessionStatusChanged)) {
      live = { sessionId: event.data.sessionId, event: { event: 'status', data: event.data } };
    } else if (isEvent(event, sessionActionUpdated)) {
      live = { sessionId: event.data.sessionId, event: { event: 'action', data: event.data } };
    } else if (isEvent(event, sessionLogLine)) {
      live = { sessionId: event.data.sessionId, event: { event: 'log', data: event.data } };
    }
    if (live === null) return;
    for (const listener of this.listeners.get(live.sessionId) ?? []) listener(live.event);
  }
}
