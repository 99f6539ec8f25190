import { randomBytes } from 'node:crypto';

/** A name no other test run uses (topics, groups, databases): `prefix-<time>-<random>`. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
