import { randomBytes } from 'node:crypto';

function sharedKey(name: string): Buffer {
  // Kept in the environment, so that the processes a test or bench starts (services, helpers) share it.
  process.env[name] ??= randomBytes(32).toString('base64');
  return Buffer.from(process.env[name], 'base64');
}

/**
 * Keys that services share in production, made once per test process and passed to every process it starts
 * (through the environment), so a test that plays one service's part for another uses the same.
 */
export const testKeys = {
  /** `COMMAND_ID_KEY` of the sessions service and the agent gateway. */
  commandId: sharedKey('COMMAND_ID_KEY'),
};
