import type { RequestHandler } from 'express';
import type { Logger } from '@converge/telemetry';

export interface ReadinessCheck {
  name: string;
  /** Resolves true when the dependency is usable; false, a rejection or a timeout all mean not ready. */
  check: () => Promise<boolean>;
}

export type CheckState = 'up' | 'down';

async function probe(check: ReadinessCheck, timeoutMs: number, logger: Logger): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, timeoutMs);
  });
  try {
    return (await Promise.race([check.check(), timeout])) ? 'up' : 'down';
  } catch (error) {
    logger.warn({ err: error, check: check.name }, 'readiness check failed');
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check in parallel, so one slow dependency costs one timeout, not the sum of them. */
export function readinessHandler(
  checks: ReadinessCheck[],
  timeoutMs: number,
  logger: Logger,
): RequestHandler {
  return async (_req, res) => {
    const states = await Promise.all(checks.map((check) => probe(check, timeoutMs, logger)));
    const byName = Object.fromEntries(checks.map((check, i) => [check.name, states[i] ?? 'down']));
    const ready = states.every((state) => state === 'up');
    res.setHeader('cache-control', 'no-store');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: byName });
  };
}
