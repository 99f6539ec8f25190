/**
 * A command's parameters reach its script as environment variables, never spliced into the script text, so a
 * value cannot change what the script does: parameter `Version` becomes `CONVERGE_PARAM_VERSION` (upper
 * case; any character other than A-Z, 0-9 and `_` becomes `_`). Read it as `$CONVERGE_PARAM_VERSION` (bash,
 * sh), `$env:CONVERGE_PARAM_VERSION` (PowerShell) or `%CONVERGE_PARAM_VERSION%` (cmd).
 */
export const parameterPrefix = 'CONVERGE_PARAM_';

export function parameterVariableName(name: string): string {
  return parameterPrefix + name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export class ParameterNameError extends Error {}

/** The variables for `parameters`; two names that map to one variable are refused rather than one lost. */
export function parameterVariables(parameters: Readonly<Record<string, string>>): Record<string, string> {
  const variables: Record<string, string> = {};
  const sources = new Map<string, string>();
  for (const [name, value] of Object.entries(parameters)) {
    if (name.length === 0) throw new ParameterNameError('a parameter has an empty name');
    const variable = parameterVariableName(name);
    const earlier = sources.get(variable);
    if (earlier !== undefined) {
      throw new ParameterNameError(`parameters "${earlier}" and "${name}" would both be ${variable}`);
    }
    sources.set(variable, name);
    // A NUL cannot travel in an environment block; it would silently cut the value short.
    if (value.includes('\0')) throw new ParameterNameError(`parameter "${name}" contains a NUL character`);
    variables[variable] = value;
  }
  return variables;
}
