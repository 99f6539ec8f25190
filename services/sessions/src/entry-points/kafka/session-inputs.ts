import { isEvent, type ReceivedEvent } from '@converge/bus';
import {
  commandCompleted,
  commandOutputChunk,
  sessionAgentConnectivityChanged,
  type CommandIds,
  sessionCancelRequested,
  sessionStartRequested,
} from '@converge/contracts';
import { finalWordsSeq } from '../../domain/session-work.ts';
import type { SessionInput } from '../../use-cases/session-batch.ts';

/**
 * What one message on the owner's topics means for its session. An agent's report names its agent and tenant,
 * which the owner checks against the session's own, and a command id issued to that agent for that session,
 * which becomes the session's own name for the command; a report of any other id means nothing. Redelivery is
 * harmless: the state machine ignores a result for an answered command, a chunk whose sequence number it has
 * seen and a start of a session that exists.
 */
export function sessionInputsOf(event: ReceivedEvent, commandIds: CommandIds): SessionInput[] {
  if (isEvent(event, commandCompleted)) {
    const { sessionId, agentId, tenantId, outcome, exitCode, lastLine, message } = event.data;
    const commandId = commandIds.refOf(agentId, sessionId, event.data.commandId);
    if (commandId === null) return [];
    const report = { type: 'agent-report' as const, sessionId, agentId, tenantId };
    const inputs: SessionInput[] = [];
    if (message !== undefined && outcome !== 'completed' && outcome !== 'undeliverable') {
      // Why the script did not run to an exit goes to the action's log after any output (the command is over:
      // no chunk can follow). An undeliverable command is sent again later, so its words are not kept.
      inputs.push({
        ...report,
        event: { type: 'output-chunk', commandId, seq: finalWordsSeq, data: message },
      });
    }
    inputs.push({ ...report, event: { type: 'command-result', commandId, outcome, exitCode, lastLine } });
    return inputs;
  }
  if (isEvent(event, commandOutputChunk)) {
    const { sessionId, agentId, tenantId, seq, data } = event.data;
    const commandId = commandIds.refOf(agentId, sessionId, event.data.commandId);
    if (commandId === null) return [];
    return [
      {
        type: 'agent-report',
        sessionId,
        agentId,
        tenantId,
        event: { type: 'output-chunk', commandId, seq, data },
      },
    ];
  }
  if (isEvent(event, sessionStartRequested)) return [{ type: 'start', request: event.data }];
  if (isEvent(event, sessionCancelRequested)) return [{ type: 'cancel', request: event.data }];
  if (isEvent(event, sessionAgentConnectivityChanged)) return [{ type: 'connectivity', change: event.data }];
  return [];
}
