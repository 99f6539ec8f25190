import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Command ids as agents see them: `<ref>.<tag>`, where the ref is the sessions service's own name for the
 * command and the tag a MAC over the agent, the session and the ref, under a key only the sessions service and
 * the agent gateway hold (`COMMAND_ID_KEY`). Nobody without the key can name a command before it is delivered,
 * and a result or output chunk is taken only for a command issued to the agent whose connection reports it, for
 * the session it names; the gateway checks this on every replica without remembering deliveries, so an agent
 * that reconnects elsewhere still reports a command another replica gave it.
 */
export interface CommandIds {
  /** The id sent to the agent for a command the session knows as `ref`. */
  issue(agentId: string, sessionId: string, ref: string): string;
  /** The ref of an id issued to this agent for this session, or null for an id that was not. */
  refOf(agentId: string, sessionId: string, commandId: string): string | null;
}

// 16 bytes of HMAC-SHA-256: forging one takes 2^128 tries, and the id stays short.
const tagBytes = 16;
const tagLength = Math.ceil((tagBytes * 4) / 3);

export function createCommandIds(key: Buffer): CommandIds {
  if (key.length !== 32) throw new RangeError('the command id key must be 32 bytes');
  const tagOf = (agentId: string, sessionId: string, ref: string): Buffer =>
    createHmac('sha256', key).update(`${agentId}\n${sessionId}\n${ref}`).digest().subarray(0, tagBytes);
  return {
    issue: (agentId, sessionId, ref) => `${ref}.${tagOf(agentId, sessionId, ref).toString('base64url')}`,
    refOf(agentId, sessionId, commandId) {
      const dot = commandId.length - tagLength - 1;
      if (dot < 1 || commandId[dot] !== '.') return null;
      const ref = commandId.slice(0, dot);
      const tag = Buffer.from(commandId.slice(dot + 1), 'base64url');
      if (tag.length !== tagBytes) return null;
      return timingSafeEqual(tag, tagOf(agentId, sessionId, ref)) ? ref : null;
    },
  };
}
