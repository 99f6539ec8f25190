import { describe, expect, it } from '@jest/globals';
import type { ContractEvent } from '@converge/bus';
import { commandCompleted, commandOutputChunk, type CommandCompleted } from '@converge/contracts';
import { createLogger } from '@converge/telemetry';
import { EventQueue, type EventSender } from './event-queue.ts';

const logger = createLogger({ service: 'gateway-test', level: 'silent' });

/** A bus that records each send, and fails the sends it is told to. */
function recordingBus(failSends: number[] = []): { bus: EventSender; sends: ContractEvent[][] } {
  const sends: ContractEvent[][] = [];
  const bus: EventSender = {
    publishAll: (events) => {
      sends.push([...events]);
      return failSends.includes(sends.length) ? Promise.reject(new Error('broker away')) : Promise.resolve();
    },
  };
  return { bus, sends };
}

const result = (commandId: string): CommandCompleted => ({
  commandId,
  agentId: 'agent-1',
  tenantId: 'tenant-1',
  sessionId: 'session-1',
  outcome: 'completed',
  exitCode: 0,
  lastLine: null,
  durationMs: 1,
  truncated: false,
  completedAt: new Date(0).toISOString(),
});

describe('the event queue', () => {
  it('sends what one turn queued in one send, in order, chunks before the result they precede', async () => {
    const { bus, sends } = recordingBus();
    const queue = new EventQueue(bus, logger, 1);
    queue.enqueue(commandOutputChunk, {
      subject: 'session-1',
      data: { ...result('c1'), seq: 0, stream: 'stdout', data: 'x' },
    });
    queue.enqueue(commandCompleted, { subject: 'session-1', data: result('c1') });
    await queue.flush();
    expect(sends.map((send) => send.map(({ contract }) => contract.type))).toEqual([
      [commandOutputChunk.type, commandCompleted.type],
    ]);
  });

  it('answers a publish once its own event is sent, and rejects it when that send failed', async () => {
    const { bus } = recordingBus([1]);
    const queue = new EventQueue(bus, logger, 1);
    await expect(
      queue.publish(commandCompleted, { subject: 'session-1', data: result('c1') }),
    ).rejects.toThrow('broker away');
    await expect(
      queue.publish(commandCompleted, { subject: 'session-1', data: result('c2') }),
    ).resolves.toBeUndefined();
  });
});
