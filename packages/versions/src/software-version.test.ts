import { describe, it, expect } from '@jest/globals';
import { compareVersions, isNewerVersion, parseVersion } from './software-version.ts';

describe('versions', () => {
  it('treats missing parts as zero, so 1.2 equals 1.2.0.0', () => {
    expect(compareVersions('1.2', '1.2.0.0')).toBe(0);
    expect(compareVersions('1', '1.0.0')).toBe(0);
  });

  it('compares part by part numerically, not as text', () => {
    expect(compareVersions('1.10', '1.9')).toBe(1);
    expect(compareVersions('10.0.19045.1', '10.0.19045.12')).toBe(-1);
    expect(compareVersions('2.0', '1.99.99.99')).toBe(1);
  });

  it('ignores leading zeros and surrounding whitespace', () => {
    expect(compareVersions('1.02', '1.2')).toBe(0);
    expect(compareVersions(' 3.1 \n', '3.1')).toBe(0);
  });

  it('treats more than four parts or non-digits as opaque', () => {
    expect(parseVersion('1.2.3.4.5')).toBeNull();
    expect(parseVersion('1.2-beta')).toBeNull();
    expect(parseVersion('')).toBeNull();
    expect(parseVersion('4.3.2.1')).toEqual([4, 3, 2, 1]);
  });

  it('sorts opaque versions after numeric ones and ordinally among themselves', () => {
    expect(compareVersions('2024-R1', '99.0')).toBe(1);
    expect(compareVersions('99.0', '2024-R1')).toBe(-1);
    expect(compareVersions('B', 'a')).toBe(-1);
    expect(compareVersions('beta', 'beta')).toBe(0);
  });

  it('never reports an opaque version as newer than a numeric one', () => {
    expect(isNewerVersion('2024-R1', '1.0')).toBe(false);
    expect(isNewerVersion('1.0', '2024-R1')).toBe(false);
    expect(isNewerVersion('1.0.1', '1.0')).toBe(true);
    expect(isNewerVersion('1.0', '1.0.0.0')).toBe(false);
    expect(isNewerVersion('b', 'a')).toBe(true);
  });
});
