import type { FieldError } from '@converge/errors';
import { RE2JS } from 're2js';

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
  /** text: a regular expression the whole value must match (see `compiledPattern`). */
  pattern: string | null;
  /** select: the allowed values. */
  options: string[];
}

const parameterName = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The longest pattern a task may give a parameter (the API's limit too). */
export const patternMaxLength = 256;
/**
 * The most instructions a compiled pattern may have. The engine's work per character of a value grows with
 * it (bounded repeats such as `{0,1000}` unroll), so this bounds a check to a few milliseconds.
 */
export const patternMaxProgramSize = 1000;
/** The longest text or secret value (the API's limit too), refused before any pattern runs over it. */
export const textMaxLength = 65_536;

/**
 * Patterns are written in JavaScript syntax (as a browser checks them) and run on RE2JS, a linear-time
 * engine with RE2 semantics: a tenant admin writes them, and a backtracking engine takes time exponential in
 * the value for patterns such as `(a+)+`, blocking the whole process. RE2 has no lookaround or
 * backreferences, so patterns using them are refused. Compiled patterns are kept, a bounded number.
 */
type CompiledPattern = { matcher: RE2JS; problem: null } | { matcher: null; problem: string };

const compiledPatterns = new Map<string, CompiledPattern>();
const compiledPatternsKept = 500;

function hasNamedBackreference(pattern: string): boolean {
  // RE2JS.translateRegExp would turn `\k<name>` into the literal text `k<name>`, so it is refused here.
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '\\') continue;
    if (pattern[i + 1] === 'k') return true;
    i++;
  }
  return false;
}

function compilePattern(pattern: string): CompiledPattern {
  const refused = (problem: string): CompiledPattern => ({ matcher: null, problem });
  if (pattern.length > patternMaxLength) return refused(`must be at most ${patternMaxLength} characters`);
  try {
    // Compiling never runs the pattern: this only checks the syntax the dashboard and the API document.
    new RegExp(pattern, 'u');
  } catch {
    return refused('is not a valid regular expression');
  }
  const unsupported = (detail: string) =>
    refused(`lookaround and backreferences are not supported, nor repeat counts over 1000 (${detail})`);
  if (hasNamedBackreference(pattern)) return unsupported('a backreference');
  let matcher: RE2JS;
  try {
    matcher = RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (error) {
    return unsupported((error as Error).message.replace(/^error parsing regexp: /, ''));
  }
  const size = matcher.programSize();
  if (size > patternMaxProgramSize)
    return refused(
      `is too complex: ${size} instructions once compiled, at most ${patternMaxProgramSize} (use smaller repeat counts)`,
    );
  return { matcher, problem: null };
}

/** A parameter's pattern ready to match, or why it cannot be used. */
function compiledPattern(pattern: string): CompiledPattern {
  let compiled = compiledPatterns.get(pattern);
  if (compiled === undefined) {
    compiled = compilePattern(pattern);
    if (compiledPatterns.size >= compiledPatternsKept) {
      const oldest = compiledPatterns.keys().next();
      if (oldest.done !== true) compiledPatterns.delete(oldest.value);
    }
    compiledPatterns.set(pattern, compiled);
  }
  return compiled;
}

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
  if (text.length > textMaxLength) return `must be at most ${textMaxLength} characters`;
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
    case 'text': {
      if (typeof value !== 'string') return 'must be text';
      // Lengths first: a value is never matched before it is known to be short enough.
      const length = withinLength(value, definition);
      if (length !== null || definition.pattern === null) return length;
      const { matcher, problem } = compiledPattern(definition.pattern);
      if (problem !== null) return "cannot be checked: the task's pattern is no longer supported";
      return matcher.testExact(value) ? null : `must match ${definition.pattern}`;
    }
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
    const patternProblem = definition.pattern === null ? null : compiledPattern(definition.pattern).problem;
    if (patternProblem !== null) problems.push({ path: `${path}/pattern`, message: patternProblem });
    else if (definition.defaultValue !== null) {
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
