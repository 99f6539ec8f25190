import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createCommandIds } from './command-ids.ts';
import { agentCommandRequestedSchema } from './events/command-events.ts';

const ids = createCommandIds(randomBytes(32));
const sessionId = '0f8fad5b-d9cb-469f-a165-70867728950e';
const ref = `${sessionId}:software-7zip:detect`;

describe('command ids', () => {
  it('gives back the ref of an id issued to the agent for the session', () => {
    const id = ids.issue('agent-1', sessionId, ref);
    expect(id.startsWith(`${ref}.`)).toBe(true);
    expect(ids.refOf('agent-1', sessionId, id)).toBe(ref);
  });

  it('refuses an id issued to another agent, for another session, or under another key', () => {
    const id = ids.issue('agent-1', sessionId, ref);
    expect(ids.refOf('agent-2', sessionId, id)).toBeNull();
    expect(ids.refOf('agent-1', 'another-session', id)).toBeNull();
    expect(createCommandIds(randomBytes(32)).refOf('agent-1', sessionId, id)).toBeNull();
  });

  it('refuses a ref without a tag, a changed ref and a truncated or altered tag', () => {
    const id = ids.issue('agent-1', sessionId, ref);
    const tag = id.slice(ref.length + 1);
    expect(ids.refOf('agent-1', sessionId, ref)).toBeNull();
    expect(ids.refOf('agent-1', sessionId, `${sessionId}:software-7zip:set.${tag}`)).toBeNull();
    expect(ids.refOf('agent-1', sessionId, id.slice(0, -1))).toBeNull();
    const altered = `${ref}.${tag[0] === 'A' ? 'B' : 'A'}${tag.slice(1)}`;
    expect(ids.refOf('agent-1', sessionId, altered)).toBeNull();
    expect(ids.refOf('agent-1', sessionId, '')).toBeNull();
  });

  it('issues ids the command contract accepts for the longest action ids', () => {
    const longRef = `${sessionId}:${'a'.repeat(128)}:retest`;
    const id = ids.issue('agent-1', sessionId, longRef);
    const command = agentCommandRequestedSchema.shape.commandId.safeParse(id);
    expect(command.success).toBe(true);
  });
});
