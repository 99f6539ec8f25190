import type {
  AgentCommandRequested,
  CommandCompleted,
  CommandOutputChunk,
  ScriptLanguage as ContractLanguage,
} from '@converge/contracts';
import {
  CommandOutcome,
  CommandSchema,
  ExecutionContext,
  OutputStream,
  ScriptLanguage,
  type CommandResult,
  type MessageInitShape,
  type OutputChunk,
} from '@converge/proto';
import type { CommandSecrets } from '@converge/store';

const languages: Record<ContractLanguage, ScriptLanguage> = {
  powershell: ScriptLanguage.POWERSHELL,
  pwsh: ScriptLanguage.PWSH,
  bash: ScriptLanguage.BASH,
  sh: ScriptLanguage.SH,
  cmd: ScriptLanguage.CMD,
};

export function scriptLanguageOf(language: ContractLanguage): ScriptLanguage {
  return languages[language];
}

/** The `Command` frame for a requested command; parameters travel as strings, as scripts receive them. */
export function commandFrame(command: AgentCommandRequested): MessageInitShape<typeof CommandSchema> {
  return {
    id: command.commandId,
    sessionId: command.sessionId,
    actionId: command.actionId,
    language: languages[command.language],
    executionContext: command.context === 'user' ? ExecutionContext.USER : ExecutionContext.SYSTEM,
    body: command.body,
    parameters: Object.fromEntries(
      Object.entries(command.parameters).map(([name, value]) => [name, String(value)]),
    ),
    timeoutSeconds: command.timeoutSeconds,
  };
}

/** Who sent a frame: the connection's agent and tenant, never what the frame claims. */
export interface FrameSender {
  agentId: string;
  tenantId: string;
}

/**
 * The command as the agent is to get it: its sealed parameters opened for the connection it is written to
 * (tenant and agent from that connection's credential, never from the command) and passed with the plain ones,
 * which win on a name in both (the session's own `version` and `method`). A command without sealed parameters
 * comes back as it is, at no cost. Throws when one does not open: sealed for another tenant, agent, session or
 * parameter, or tampered with.
 */
export function withSecretsOpened(
  command: AgentCommandRequested,
  recipient: FrameSender,
  secrets: CommandSecrets,
): AgentCommandRequested {
  const sealed = command.sealedParameters;
  if (sealed === undefined) return command;
  const binding = { tenantId: recipient.tenantId, agentId: recipient.agentId, sessionId: command.sessionId };
  return { ...command, parameters: { ...secrets.open(binding, sealed), ...command.parameters } };
}

const maxChunkText = 64 * 1024;
const maxLineText = 4096;
const utf8 = new TextDecoder();

export function outputChunkEvent(chunk: OutputChunk, sender: FrameSender): CommandOutputChunk {
  return {
    commandId: chunk.commandId,
    agentId: sender.agentId,
    tenantId: sender.tenantId,
    sessionId: chunk.sessionId,
    seq: chunk.seq,
    stream: chunk.stream === OutputStream.STDERR ? 'stderr' : 'stdout',
    // Invalid UTF-8 becomes U+FFFD rather than losing the chunk; agents chunk well below this bound.
    data: utf8.decode(chunk.data).slice(0, maxChunkText),
  };
}

type Outcome = CommandCompleted['outcome'];
const outcomes: Partial<Record<CommandOutcome, Outcome>> = {
  [CommandOutcome.COMPLETED]: 'completed',
  [CommandOutcome.TIMED_OUT]: 'timed-out',
  [CommandOutcome.CANCELLED]: 'cancelled',
  [CommandOutcome.FAILED_TO_START]: 'failed-to-start',
  // The contract has no outcome of its own for it: the script could not start, and the message says why.
  [CommandOutcome.LANGUAGE_UNAVAILABLE]: 'failed-to-start',
};

export type ResultMapping = { ok: true; event: CommandCompleted } | { ok: false; reason: string };

export function commandCompletedEvent(result: CommandResult, sender: FrameSender, now: Date): ResultMapping {
  const outcome = outcomes[result.outcome];
  if (outcome === undefined) return { ok: false, reason: 'command result without an outcome' };
  const message =
    result.message.trim() === '' && result.outcome === CommandOutcome.LANGUAGE_UNAVAILABLE
      ? 'the agent has no interpreter for the script language'
      : result.message;
  return {
    ok: true,
    event: {
      commandId: result.commandId,
      agentId: sender.agentId,
      tenantId: sender.tenantId,
      sessionId: result.sessionId,
      outcome,
      exitCode: outcome === 'completed' ? result.exitCode : null,
      lastLine: result.finalOutputLine === '' ? null : result.finalOutputLine.slice(0, maxLineText),
      durationMs: result.durationMs,
      truncated: result.outputTruncated,
      ...(message.trim() === '' ? {} : { message: message.slice(0, maxLineText) }),
      completedAt: now.toISOString(),
    },
  };
}

/** Whether a command waited too long to be delivered: one read again from far back must not run. */
export function isExpired(
  command: Pick<AgentCommandRequested, 'requestedAt'>,
  nowMs: number,
  maxAgeMs: number,
) {
  return nowMs - Date.parse(command.requestedAt) > maxAgeMs;
}

/**
 * The answer for a command the gateway did not write to an agent: `undeliverable` when no agent connection
 * could take it (the session decides when to send it again), `failed-to-start` when it must never run as sent.
 */
export function notRunEvent(
  command: AgentCommandRequested,
  outcome: 'undeliverable' | 'failed-to-start',
  why: string,
  now: Date,
): CommandCompleted {
  return {
    commandId: command.commandId,
    agentId: command.agentId,
    tenantId: command.tenantId,
    sessionId: command.sessionId,
    outcome,
    exitCode: null,
    lastLine: null,
    durationMs: 0,
    truncated: false,
    message: why,
    completedAt: now.toISOString(),
  };
}
