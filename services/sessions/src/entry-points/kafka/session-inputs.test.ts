import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ReceivedEvent } from '@converge/bus';
import {
  commandCompleted,
  commandOutputChunk,
  createCommandIds,
  type CommandCompleted,
  type CommandOutputChunk,
} from '@converge/contracts';
import { sessionInputsOf } from './session-inputs.ts';

const commandIds = createCommandIds(randomBytes(32));
const sessionId = 'session-1';
const ref = `${sessionId}:software-7zip:detect`;
const report = { agentId: 'agent-1', tenantId: 'tenant-contoso', sessionId };

function received<T>(type: string, data: T): ReceivedEvent<T> {
  return {
    id: 'event-1',
    type,
    source: 'agent-gateway',
    subject: sessionId,
    time: '2026-12-03T10:00:00.000Z',
    data,
    topic: 'gateway.command-results',
    partition: 0,
    offset: '1',
  };
}

function result(commandId: string, agentId = report.agentId): ReceivedEvent<CommandCompleted> {
  return received(commandCompleted.type, {
    ...report,
    agentId,
    commandId,
    outcome: 'completed',
    exitCode: 0,
    lastLine: '1.0',
    durationMs: 5,
    truncated: false,
    completedAt: '2026-12-03T10:00:00.000Z',
  });
}

function chunk(commandId: string): ReceivedEvent<CommandOutputChunk> {
  return received(commandOutputChunk.type, { ...report, commandId, seq: 0, stream: 'stdout', data: '1.0\n' });
}

describe("an agent's report", () => {
  it('names the command by the id the session issued to that agent, and reaches the session under its own name', () => {
    const issued = commandIds.issue('agent-1', sessionId, ref);
    expect(sessionInputsOf(result(issued), commandIds)).toEqual([
      expect.objectContaining({ type: 'agent-report', event: expect.objectContaining({ commandId: ref }) }),
    ]);
    expect(sessionInputsOf(chunk(issued), commandIds)).toEqual([
      expect.objectContaining({ type: 'agent-report', event: expect.objectContaining({ commandId: ref }) }),
    ]);
  });

  it('means nothing for a guessed id, or an id issued to another agent', () => {
    expect(sessionInputsOf(result(ref), commandIds)).toEqual([]);
    expect(sessionInputsOf(chunk(ref), commandIds)).toEqual([]);
    const issuedToAnother = commandIds.issue('agent-2', sessionId, ref);
    expect(sessionInputsOf(result(issuedToAnother), commandIds)).toEqual([]);
  });
});
