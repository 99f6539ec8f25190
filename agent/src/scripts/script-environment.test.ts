import { describe, expect, it } from '@jest/globals';
import { ParameterNameError, parameterVariables } from './script-environment.ts';

describe('script parameters as environment variables', () => {
  it('prefixes, upper-cases and replaces characters a variable name cannot hold', () => {
    expect(parameterVariables({ Version: '1.2', 'install-dir': '/opt/x', 'a.b c': 'v' })).toEqual({
      CONVERGE_PARAM_VERSION: '1.2',
      CONVERGE_PARAM_INSTALL_DIR: '/opt/x',
      CONVERGE_PARAM_A_B_C: 'v',
    });
  });

  it('refuses two parameters that would become the same variable', () => {
    expect(() => parameterVariables({ 'a-b': '1', a_b: '2' })).toThrow(ParameterNameError);
  });

  it('refuses a value holding a NUL character', () => {
    expect(() => parameterVariables({ x: 'a\0b' })).toThrow(/NUL/);
  });
});
