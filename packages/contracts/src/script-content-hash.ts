import { createHash } from 'node:crypto';

/**
 * How every service names one version of a script: the SHA-256 of its body. The audit log shows a script change
 * by it, and a session shows it for each step it ran, from the plan it ran (plans are stored as they came).
 */
export function scriptContentHash(body: string): string {
  return `sha256:${createHash('sha256').update(body, 'utf8').digest('hex')}`;
}
