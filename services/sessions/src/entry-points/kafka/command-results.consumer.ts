import { commandCompleted, commandOutputChunk } from '@converge/contracts';
import { isEvent, type Bus, type ReceivedEvent, type Subscription } from '@converge/bus';
import type { SessionOrchestrator } from '../../use-cases/session-orchestrator.ts';

const finalWordsSeq = 2 ** 31;

/**
 * The agents' output and results, applied to their sessions. Redelivery is harmless: the state machine
 * ignores a result for an answered command and a chunk whose sequence number it has seen.
 */
export function handleCommandResult(orchestrator: SessionOrchestrator) {
  return async (event: ReceivedEvent): Promise<void> => {
    if (isEvent(event, commandCompleted)) {
      const { sessionId, commandId, outcome, exitCode, lastLine, message } = event.data;
      if (message !== undefined && outcome !== 'completed' && outcome !== 'undeliverable') {
        // Why the script did not run to an exit goes to the action's log, after any output (the command is
        // over: no chunk can follow). An undeliverable command is sent again later, so its words are not kept.
        await orchestrator.apply(sessionId, {
          type: 'output-chunk',
          commandId,
          seq: finalWordsSeq,
          data: message,
        });
      }
      await orchestrator.apply(sessionId, { type: 'command-result', commandId, outcome, exitCode, lastLine });
    } else if (isEvent(event, commandOutputChunk)) {
      const { sessionId, commandId, seq, data } = event.data;
      await orchestrator.apply(sessionId, { type: 'output-chunk', commandId, seq, data });
    }
  };
}

export function consumeCommandResults(
  bus: Bus,
  orchestrator: SessionOrchestrator,
  opts: { groupId: string; topic: string; concurrency: number },
): Promise<Subscription> {
  return bus.subscribe({
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: true,
    partitionsConsumedConcurrently: opts.concurrency,
    handle: handleCommandResult(orchestrator),
  });
}
