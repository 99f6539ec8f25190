import type { Logger } from '@converge/telemetry';
import type { IntegrationUseCases } from '../../use-cases/integrations.use-cases.ts';

export interface SyncSchedule {
  stop(): Promise<void>;
}

/**
 * Looks for due integrations at least once a minute (every interval when shorter), so an hourly sync starts
 * within a minute of being due on whichever replica looks first; the lock keeps it to one run.
 */
export function startSyncSchedule(
  integrations: IntegrationUseCases,
  intervalMs: number,
  logger: Logger,
): SyncSchedule {
  const tickMs = Math.min(intervalMs, 60_000);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  const tick = () => {
    current = integrations.syncDue(new Date()).catch((error: unknown) => {
      logger.error({ err: error }, 'sync schedule pass failed');
    });
    void current.then(() => {
      if (!stopped) timer = setTimeout(tick, tickMs);
    });
  };
  timer = setTimeout(tick, 0);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
