import { z } from 'zod';
import { defineEvent } from '../event-contract.ts';
import { topics } from '../topics.ts';
import { id, timestamp } from './fields.ts';

/** Who a command is for and why; commands are keyed by agent id, output and results by session id. */
const commandRef = {
  // The session's name for the command (up to a session id, an item id and a step) and its tag (command-ids.ts).
  commandId: z.string().min(1).max(256),
  agentId: id,
  tenantId: id,
  sessionId: id,
};

export const scriptLanguages = ['powershell', 'pwsh', 'bash', 'sh', 'cmd'] as const;
export type ScriptLanguage = (typeof scriptLanguages)[number];

const parameterName = z.string().min(1).max(128);

export const agentCommandRequestedSchema = z.object({
  ...commandRef,
  actionId: id,
  language: z.enum(scriptLanguages),
  context: z.enum(['system', 'user']),
  // Bounded well under Kafka's default 1 MiB message size.
  body: z
    .string()
    .min(1)
    .max(512 * 1024),
  parameters: z.record(parameterName, z.union([z.string().max(32 * 1024), z.number(), z.boolean()])),
  /**
   * Secret parameters, sealed by deployments for the gateway (`CommandSecrets` in `@converge/store`): only the
   * gateway opens them, as it writes the command to the agent, and passes them on with `parameters` (which win
   * on a name in both). Absent when the command has none, so commands without secrets cost the gateway nothing.
   * Bounded to hold a value as long as `parameters` allows: up to 3 UTF-8 bytes a character, in base64.
   */
  sealedParameters: z.record(parameterName, z.string().max(160 * 1024)).optional(),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(24 * 60 * 60),
  requestedAt: timestamp,
});
export type AgentCommandRequested = z.infer<typeof agentCommandRequestedSchema>;
export const agentCommandRequested = defineEvent(
  'converge.command.requested.v1',
  topics.commands,
  agentCommandRequestedSchema,
);

export const agentCommandCancelRequestedSchema = z.object({ ...commandRef, requestedAt: timestamp });
export type AgentCommandCancelRequested = z.infer<typeof agentCommandCancelRequestedSchema>;
export const agentCommandCancelRequested = defineEvent(
  'converge.command.cancel-requested.v1',
  topics.commands,
  agentCommandCancelRequestedSchema,
);

export const commandOutputChunkSchema = z.object({
  ...commandRef,
  /** Order of the chunk within the command's output, from 0; a redelivered chunk repeats its seq. */
  seq: z.number().int().min(0),
  stream: z.enum(['stdout', 'stderr']),
  data: z.string().max(64 * 1024),
});
export type CommandOutputChunk = z.infer<typeof commandOutputChunkSchema>;
export const commandOutputChunk = defineEvent(
  'converge.command.output-chunk.v1',
  topics.commandResults,
  commandOutputChunkSchema,
);

export const commandOutcomes = [
  'completed',
  'timed-out',
  'cancelled',
  'undeliverable',
  'failed-to-start',
] as const;
export type CommandOutcome = (typeof commandOutcomes)[number];

export const commandCompletedSchema = z.object({
  ...commandRef,
  outcome: z.enum(commandOutcomes),
  /** Null when the script never ran to an exit (undeliverable, failed to start, timed out). */
  exitCode: z.number().int().nullable(),
  /** The detection value: a version for software, true/false for a task test. */
  lastLine: z.string().max(4096).nullable(),
  durationMs: z.number().int().min(0),
  /** True when the agent dropped output beyond its limit. */
  truncated: z.boolean(),
  message: z.string().max(4096).optional(),
  completedAt: timestamp,
});
export type CommandCompleted = z.infer<typeof commandCompletedSchema>;
export const commandCompleted = defineEvent(
  'converge.command.completed.v1',
  topics.commandResults,
  commandCompletedSchema,
);
