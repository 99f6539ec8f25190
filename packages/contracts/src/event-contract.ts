import type { z } from 'zod';
import type { TopicName } from './topics.ts';

/** One event type: its CloudEvents `type`, the topic it travels on and the schema of its payload. */
export interface EventContract<T> {
  /** CloudEvents type, `converge.<aggregate>.<event>.v<major>`; a breaking change is a new major. */
  readonly type: string;
  readonly topic: TopicName;
  readonly schema: z.ZodType<T>;
}

export interface ContractIssue {
  /** Dotted path to the offending field (`loggedOnUpns.2`); empty for the payload itself. */
  path: string;
  message: string;
}

/** A payload that does not match its contract: produced nowhere, and sent to the dead-letter topic when consumed. */
export class ContractViolation extends Error {
  readonly eventType: string;
  readonly issues: readonly ContractIssue[];

  constructor(eventType: string, issues: readonly ContractIssue[]) {
    super(
      `${eventType} payload violates its contract: ${issues.map((issue) => `${issue.path || '(payload)'}: ${issue.message}`).join('; ')}`,
    );
    this.name = 'ContractViolation';
    this.eventType = eventType;
    this.issues = issues;
  }
}

const registry = new Map<string, EventContract<unknown>>();

/** Declares an event type; each type is declared once in the whole system. */
export function defineEvent<T>(type: string, topic: TopicName, schema: z.ZodType<T>): EventContract<T> {
  if (registry.has(type)) throw new Error(`event type ${type} is defined twice`);
  const contract: EventContract<T> = Object.freeze({ type, topic, schema });
  registry.set(type, contract);
  return contract;
}

/** The contract of a received `ce_type`, or undefined for a type this build does not know. */
export function findContract(type: string): EventContract<unknown> | undefined {
  return registry.get(type);
}

export function allContracts(): readonly EventContract<unknown>[] {
  return [...registry.values()];
}

/** Validates a payload and returns it without unknown fields, or throws a ContractViolation. */
export function parseEventData<T>(contract: EventContract<T>, data: unknown): T {
  const result = contract.schema.safeParse(data);
  if (result.success) return result.data;
  throw new ContractViolation(
    contract.type,
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}
