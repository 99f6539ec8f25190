import type { Logger } from '@converge/telemetry';
import type { SessionRepository } from '../../data-access/session.repository.ts';
import type { SessionOrchestrator } from '../../use-cases/session-orchestrator.ts';

const batchSize = 200;

/**
 * Lets time act on sessions: plans not received yet, starts of pending sessions, command deadlines and
 * maintenance windows. Each due session is woken once per round; a full batch means more are due, so the
 * next round follows at once.
 */
export function startSessionTicker(
  sessions: SessionRepository,
  orchestrator: SessionOrchestrator,
  opts: { intervalMs: number; logger: Logger; clock: () => number },
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<number> = Promise.resolve(0);

  async function round(): Promise<number> {
    try {
      const due = await sessions.due(opts.clock(), batchSize);
      for (const id of due) {
        if (stopped) break;
        await orchestrator.wake(id).catch((error: unknown) => {
          opts.logger.warn({ err: error, sessionId: id }, 'waking a maintenance session failed');
        });
      }
      return due.length;
    } catch (error) {
      opts.logger.error({ err: error }, 'session ticker round failed');
      return 0;
    }
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      current = round();
      void current.then((count) => {
        schedule(count === batchSize ? 0 : opts.intervalMs);
      });
    }, delayMs);
  }
  schedule(opts.intervalMs);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
