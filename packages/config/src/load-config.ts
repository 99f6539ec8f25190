import type { z } from 'zod';

export interface ConfigIssue {
  /** The environment variable, or `(config)` for a rule across several variables. */
  variable: string;
  reason: string;
}

/** Thrown at start when the environment is invalid; lists every bad variable at once, never their values. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  ${issue.variable}: ${issue.reason}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Parses the environment once into the service's typed config. Variables set to an empty string count as
 * unset, so a chart or compose file can blank an optional variable and get its default.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue): ConfigIssue => {
    const variable = issue.path.length > 0 ? issue.path.map(String).join('.') : '(config)';
    const first = issue.path[0];
    const missing = typeof first === 'string' && !(first in present) && issue.code === 'invalid_type';
    return { variable, reason: missing ? 'is required' : issue.message };
  });
  throw new ConfigError(issues);
}
