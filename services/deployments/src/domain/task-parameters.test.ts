import { describe, expect, it } from '@jest/globals';
import {
  parameterDefinitionProblems,
  parameterText,
  parameterValueProblem,
  parameterValueProblems,
  type ParameterDefinition,
} from './task-parameters.ts';

function parameter(fields: Partial<ParameterDefinition> & Pick<ParameterDefinition, 'name' | 'type'>) {
  return { required: false, defaultValue: null, min: null, max: null, pattern: null, options: [], ...fields };
}

describe('task parameters', () => {
  it('checks each type, with its bounds, pattern or options', () => {
    expect(parameterValueProblem(parameter({ name: 'n', type: 'number', max: 10 }), 11)).toBe(
      'must be at most 10',
    );
    expect(parameterValueProblem(parameter({ name: 'n', type: 'number' }), '5')).toBe('must be a number');
    expect(
      parameterValueProblem(parameter({ name: 't', type: 'text', pattern: '[a-z]+' }), 'abc'),
    ).toBeNull();
    expect(
      parameterValueProblem(parameter({ name: 't', type: 'text', pattern: '[a-z]+' }), 'abc1'),
    ).not.toBeNull();
    expect(parameterValueProblem(parameter({ name: 'b', type: 'boolean' }), 'true')).not.toBeNull();
    expect(
      parameterValueProblem(parameter({ name: 's', type: 'select', options: ['a'] }), 'b'),
    ).not.toBeNull();
    expect(parameterValueProblem(parameter({ name: 'u', type: 'uri' }), 'https://example.test/x')).toBeNull();
    expect(parameterValueProblem(parameter({ name: 'u', type: 'uri' }), 'not a uri')).not.toBeNull();
    const pairs = parameter({ name: 'kv', type: 'key-value' });
    expect(parameterValueProblem(pairs, [{ key: 'a', value: '1' }])).toBeNull();
    expect(
      parameterValueProblem(pairs, [
        { key: 'a', value: '1' },
        { key: 'a', value: '2' },
      ]),
    ).toBe('keys must be unique');
  });

  it('never quotes a secret in a problem', () => {
    const secret = parameter({ name: 'ApiKey', type: 'secret', min: 40 });
    expect(parameterValueProblem(secret, 'hunter2')).not.toContain('hunter2');
  });

  it('rejects unknown names, missing required values and duplicate or malformed definitions', () => {
    const definitions = [parameter({ name: 'Days', type: 'number', required: true })];
    expect(parameterValueProblems(definitions, { Days: 3 })).toEqual([]);
    expect(parameterValueProblems(definitions, {}).map((problem) => problem.message)).toEqual([
      'is required',
    ]);
    expect(parameterValueProblems(definitions, { Days: 3, Extra: 1 })).toHaveLength(1);
    const kept = [parameter({ name: 'Key', type: 'secret', required: true })];
    expect(parameterValueProblems(kept, {}, new Set(['Key']))).toEqual([]);
    expect(
      parameterDefinitionProblems([
        parameter({ name: 'a', type: 'text' }),
        parameter({ name: 'A', type: 'select' }),
        parameter({ name: '1x', type: 'number', min: 5, max: 1, defaultValue: 'x' }),
      ]).map((problem) => problem.path),
    ).toEqual([
      '/body/parameters/1/name',
      '/body/parameters/1/options',
      '/body/parameters/2/name',
      '/body/parameters/2/min',
      '/body/parameters/2/defaultValue',
    ]);
  });

  it('spells values out as text for a script: numbers, booleans, and key-value lists as JSON in order', () => {
    expect([parameterText('x'), parameterText(0.5), parameterText(false)]).toEqual(['x', '0.5', 'false']);
    expect(
      parameterText([
        { key: 'b', value: '2' },
        { key: '1', value: 'one' },
      ]),
    ).toBe('[{"key":"b","value":"2"},{"key":"1","value":"one"}]');
  });

  it('matches patterns in linear time: (a+)+ against 34 a and a ! is refused at once', () => {
    const definition = parameter({ name: 't', type: 'text', pattern: '(a+)+' });
    const start = performance.now();
    expect(parameterValueProblem(definition, `${'a'.repeat(34)}!`)).toBe('must match (a+)+');
    expect(performance.now() - start).toBeLessThan(50);
    expect(parameterValueProblem(definition, 'aaaa')).toBeNull();
  });

  it('keeps JavaScript pattern syntax: escapes, named groups, classes, and the whole value must match', () => {
    const matches = (pattern: string, value: string) =>
      parameterValueProblem(parameter({ name: 't', type: 'text', pattern }), value) === null;
    expect(matches('[A-Z]{2}\\u002D\\d{4}', 'AB-1234')).toBe(true);
    expect(matches('\\u{1F600}', '😀')).toBe(true);
    expect(matches('(?<year>\\d{4})-\\d{2}', '2026-05')).toBe(true);
    expect(matches('\\p{L}+', 'Zürich')).toBe(true);
    expect(matches('.', '😀')).toBe(true);
    expect(matches('yes|no', 'yesno')).toBe(false);
    expect(matches('a/b', 'a/b')).toBe(true);
  });

  it('refuses patterns that need backtracking, are too complex or too long, and overlong values', () => {
    const patternProblem = (pattern: string) =>
      parameterDefinitionProblems([parameter({ name: 't', type: 'text', pattern })]).map(
        (problem) => `${problem.path} ${problem.message}`,
      );
    for (const pattern of ['(?=a)a', '(?!a)b', '(?<=a)b', '(a)\\1', '(?<x>a)\\k<x>', 'a{1001}'])
      expect(patternProblem(pattern)).toEqual([
        expect.stringContaining('/body/parameters/0/pattern lookaround and backreferences are not supported'),
      ]);
    expect(patternProblem('[a-')).toEqual(['/body/parameters/0/pattern is not a valid regular expression']);
    expect(patternProblem('(?i)a')).toEqual(['/body/parameters/0/pattern is not a valid regular expression']);
    expect(patternProblem('[a-z]{0,1000}[0-9]{0,1000}')).toEqual([
      expect.stringMatching(/^\/body\/parameters\/0\/pattern is too complex: \d+ instructions/),
    ]);
    expect(patternProblem('a'.repeat(257))).toEqual([
      '/body/parameters/0/pattern must be at most 256 characters',
    ]);
    // A default is not checked against a pattern that cannot be used.
    expect(
      parameterDefinitionProblems([
        parameter({ name: 't', type: 'text', pattern: '(?=a)', defaultValue: 'b' }),
      ]),
    ).toHaveLength(1);
    const anything = parameter({ name: 't', type: 'text', pattern: '.*' });
    expect(parameterValueProblem(anything, 'a'.repeat(65_537))).toBe('must be at most 65536 characters');
    // A pattern stored before the engine changed, which it cannot run, fails closed.
    expect(parameterValueProblem(parameter({ name: 't', type: 'text', pattern: '(?=a)a' }), 'a')).toBe(
      "cannot be checked: the task's pattern is no longer supported",
    );
  });
});
