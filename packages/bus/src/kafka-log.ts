import type { Logger } from '@converge/telemetry';
import { logLevel, type logCreator } from 'kafkajs';

/**
 * Sends kafkajs's own log lines (warnings and worse) through the service's pino logger. kafkajs logs each
 * retried attempt as an error; the bus reports what finally failed (a rejected publish, a crashed consumer)
 * itself, so kafkajs's lines are kept as warnings.
 */
export function pinoLogCreator(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const fields = { namespace, ...extra };
      if (level <= logLevel.WARN) kafkaLogger.warn(fields, message);
      else if (level === logLevel.INFO) kafkaLogger.info(fields, message);
      else kafkaLogger.debug(fields, message);
    };
}
