import { randomUUID } from 'node:crypto';
import { contractEvent, type Bus } from '@converge/bus';
import {
  sessionCancelRequested,
  sessionStartRequested,
  type SessionStartRequested,
} from '@converge/contracts';
import type { OwnerReplies } from '@converge/runtime';
import type { RequestOutcome } from './session-batch.ts';

/** A session to start: what its owner needs to create it. */
export type SessionStart = Omit<SessionStartRequested, 'requestedAt' | 'reply' | 'startAt' | 'notAfter'> & {
  startAt?: number;
  notAfter?: number | null;
};

/**
 * Changes to sessions, sent as commands to their owners (docs/architecture.md §9): nothing here writes a
 * session. A change whose outcome the caller needs waits for the owner's answer, for at most `timeoutMs`.
 */
export class SessionCommands {
  private readonly bus: Bus;
  private readonly replies: OwnerReplies;
  private readonly clock: () => number;

  constructor(deps: { bus: Bus; replies: OwnerReplies; clock: () => number }) {
    this.bus = deps.bus;
    this.replies = deps.replies;
    this.clock = deps.clock;
  }

  /**
   * Sends the starts in one request; each owner creates its session, once however often it is sent. With
   * `waitMs`, resolves once every owner answered or the time is up, with the outcomes that came.
   */
  async start(starts: readonly SessionStart[], opts: { waitMs?: number } = {}): Promise<RequestOutcome[]> {
    const requestedAt = new Date(this.clock()).toISOString();
    const answers: Promise<RequestOutcome | undefined>[] = [];
    const events = starts.map((start) => {
      let reply: { requestId: string; replyTo: string } | null = null;
      if (opts.waitMs !== undefined) {
        reply = { requestId: randomUUID(), replyTo: this.replies.replyTo };
        answers.push(this.replies.expect<RequestOutcome>(reply.requestId, opts.waitMs));
      }
      const { startAt, notAfter } = start;
      return contractEvent(sessionStartRequested, {
        subject: start.sessionId,
        tenantId: start.tenantId,
        data: {
          ...start,
          startAt: startAt === undefined ? null : new Date(startAt).toISOString(),
          notAfter: notAfter === undefined || notAfter === null ? null : new Date(notAfter).toISOString(),
          requestedAt,
          reply,
        },
      });
    });
    await this.bus.publishAll(events);
    return (await Promise.all(answers)).filter((outcome) => outcome !== undefined);
  }

  /** Asks the sessions' owners to cancel them, without waiting for their answers. */
  async cancelAll(
    sessions: readonly { sessionId: string; tenantId: string }[],
    reason: string,
  ): Promise<void> {
    const requestedAt = new Date(this.clock()).toISOString();
    await this.bus.publishAll(
      sessions.map(({ sessionId, tenantId }) =>
        contractEvent(sessionCancelRequested, {
          subject: sessionId,
          tenantId,
          data: { sessionId, reason, requestedAt, reply: null },
        }),
      ),
    );
  }

  /** Asks the session's owner to cancel it; its answer, or undefined when none came within `timeoutMs`. */
  async cancel(
    session: { sessionId: string; tenantId: string },
    reason: string,
    timeoutMs: number,
  ): Promise<RequestOutcome | undefined> {
    const requestId = randomUUID();
    const answer = this.replies.expect<RequestOutcome>(requestId, timeoutMs);
    await this.bus.publishAll([
      contractEvent(sessionCancelRequested, {
        subject: session.sessionId,
        tenantId: session.tenantId,
        data: {
          sessionId: session.sessionId,
          reason,
          requestedAt: new Date(this.clock()).toISOString(),
          reply: { requestId, replyTo: this.replies.replyTo },
        },
      }),
    ]);
    return answer;
  }
}
