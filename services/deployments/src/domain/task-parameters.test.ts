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
});
