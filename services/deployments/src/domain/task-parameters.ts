import type { FieldError } from '@converge/errors';

// A maintenance task's typed parameters and the values deployments give them. Pure: secret values arrive
// here in clear text and are sealed by the caller (data-access) before they are stored.

export const parameterTypes = ['number', 'text', 'boolean', 'select', 'secret', 'uri', 'key-value'] as const;
export type ParameterType = (typeof parameterTypes)[number];

export interface KeyValuePair {
  key: string;
  value: string;
}

export type ParameterValue = number | string | boolean | KeyValuePair[];

export interface ParameterDefinition {
  /** Passed to the script as its parameter name, so it is spelled like one. */
  name: string;
  type: ParameterType;
  required: boolean;
  defaultValue: ParameterValue | null;
  /** number: bounds; text and secret: length bounds. */
  min: number | null;
  max: number | null;
  /** text: a regular expression the whole value must match. */
  pattern: string | null;
  /** select: the allowed values. */
  options: string[];
}

const parameterName = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function isPairList(value: unknown): value is KeyValuePair[] {
  return (
    Array.isArray(value) &&
    value.every(
      (pair: unknown) =>
        typeof pair === 'object' &&
        pair !== null &&
        typeof (pair as KeyValuePair).key === 'string' &&
        typeof (pair as KeyValuePair).value === 'string',
    )
  );
}

function withinLength(text: string, definition: ParameterDefinition): string | null {
  if (definition.min !== null && text.length < definition.min)
    return `must be at least ${definition.min} characters`;
  if (definition.max !== null && text.length > definition.max)
    return `must be at most ${definition.max} characters`;
  return null;
}

/** Why `value` is not a valid value of the parameter, or null when it is. Never quotes the value. */
export function parameterValueProblem(definition: ParameterDefinition, value: unknown): string | null {
  switch (definition.type) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      if (definition.min !== null && value < definition.min) return `must be at least ${definition.min}`;
      if (definition.max !== null && value > definition.max) return `must be at most ${definition.max}`;
      return null;
    case 'text':
      if (typeof value !== 'string') return 'must be text';
      if (definition.pattern !== null && !new RegExp(`^(?:${definition.pattern})$`, 'u').test(value))
        return `must match ${definition.pattern}`;
      return withinLength(value, definition);
    case 'secret':
      return typeof value === 'string' ? withinLength(value, definition) : 'must be text';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'select':
      return typeof value === 'string' && definition.options.includes(value)
        ? null
        : `must be one of ${definition.options.join(', ')}`;
    case 'uri':
      return typeof value === 'string' && URL.canParse(value) ? null : 'must be an absolute URI';
    case 'key-value': {
      if (!isPairList(value)) return 'must be a list of { key, value } text pairs';
      const keys = new Set(value.map((pair) => pair.key));
      return keys.size === value.length ? null : 'keys must be unique';
    }
  }
}

/**
 * A value as a script receives it: text as is, numbers and booleans spelled out, a key-value list as a JSON
 * array of `{ key, value }` (the API's own spelling, which keeps the order and any key as given).
 */
export function parameterText(value: ParameterValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value.map(({ key, value: text }) => ({ key, value: text })));
}

/** Problems with a task's parameter definitions (names, options, bounds, patterns, defaults). */
export function parameterDefinitionProblems(definitions: readonly ParameterDefinition[]): FieldError[] {
  const problems: FieldError[] = [];
  const seen = new Set<string>();
  definitions.forEach((definition, index) => {
    const path = `/body/parameters/${index}`;
    if (!parameterName.test(definition.name))
      problems.push({ path: `${path}/name`, message: 'must be a letter or _ then letters, digits or _' });
    if (seen.has(definition.name.toLowerCase()))
      problems.push({ path: `${path}/name`, message: 'parameter names must be unique (ignoring case)' });
    seen.add(definition.name.toLowerCase());
    if (definition.type === 'select' && definition.options.length === 0)
      problems.push({ path: `${path}/options`, message: 'a select parameter needs options' });
    if (definition.min !== null && definition.max !== null && definition.min > definition.max)
      problems.push({ path: `${path}/min`, message: 'must not exceed max' });
    if (definition.pattern !== null) {
      try {
        new RegExp(definition.pattern, 'u');
      } catch {
        problems.push({ path: `${path}/pattern`, message: 'is not a valid regular expression' });
      }
    }
    if (definition.defaultValue !== null) {
      const problem = parameterValueProblem(definition, definition.defaultValue);
      if (problem !== null) problems.push({ path: `${path}/defaultValue`, message: problem });
    }
  });
  return problems;
}

/**
 * Problems with the values a deployment gives a task's parameters: unknown names, ill-typed values, and
 * required parameters left without a value or default. `kept` names secrets that already hold a stored value
 * (a client never reads secrets back, so it may leave them out when it changes something else).
 */
export function parameterValueProblems(
  definitions: readonly ParameterDefinition[],
  values: Readonly<Record<string, unknown>>,
  kept: ReadonlySet<string> = new Set(),
): FieldError[] {
  const problems: FieldError[] = [];
  const byName = new Map(definitions.map((definition) => [definition.name, definition]));
  for (const [name, value] of Object.entries(values)) {
    const definition = byName.get(name);
    const path = `/body/parameterValues/${name}`;
    if (!definition) problems.push({ path, message: 'the maintenance task has no such parameter' });
    else if (value !== null) {
      const problem = parameterValueProblem(definition, value);
      if (problem !== null) problems.push({ path, message: problem });
    }
  }
  for (const definition of definitions) {
    const given = values[definition.name];
    const hasValue = given !== undefined ? given !== null : kept.has(definition.name);
    if (definition.required && !hasValue && definition.defaultValue === null)
      problems.push({ path: `/body/parameterValues/${definition.name}`, message: 'is required' });
  }
  return problems;
}
