import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '@converge/errors';
import {
  canonicalHardwareUuid,
  knownBadHardwareUuids,
  readHardwareUuid,
  serialKey,
} from './hardware-identifiers.ts';

const knownBad = knownBadHardwareUuids(['{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}']);

describe('hardware UUIDs', () => {
  it('reads the same UUID the same way whatever the braces, case or hyphens', () => {
    const canonical = '4c4c4544-0042-3510-8052-b4c04f4e3732';
    expect(canonicalHardwareUuid('4C4C4544-0042-3510-8052-B4C04F4E3732')).toBe(canonical);
    expect(canonicalHardwareUuid(' {4c4c4544-0042-3510-8052-b4c04f4e3732} ')).toBe(canonical);
    expect(canonicalHardwareUuid('4C4C4544004235108052B4C04F4E3732')).toBe(canonical);
  });

  it('treats a missing, blank or non-UUID value as unusable', () => {
    expect(readHardwareUuid(null, knownBad)).toEqual({ usable: false, problem: 'missing' });
    expect(readHardwareUuid('  ', knownBad)).toEqual({ usable: false, problem: 'missing' });
    expect(readHardwareUuid('not-a-uuid', knownBad)).toEqual({ usable: false, problem: 'malformed' });
  });

  it.each([
    '00000000-0000-0000-0000-000000000000',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    '03000200-0400-0500-0006-000700080009',
    'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  ])('treats the known-bad UUID %s as no UUID', (raw) => {
    expect(readHardwareUuid(raw, knownBad)).toEqual({ usable: false, problem: 'known-bad' });
  });

  it('rejects a configured known-bad UUID that is not a UUID', () => {
    expect(() => knownBadHardwareUuids(['oops'])).toThrow(ValidationError);
  });
});

describe('serial keys', () => {
  it('keys a serial by normalized manufacturer and serial', () => {
    expect(serialKey(' Dell  Inc. ', 'abc123 ')).toBe('serial:dell inc.:abc123');
  });

  it.each([
    [null, 'ABC123'],
    ['Dell Inc.', null],
    ['Dell Inc.', 'To Be Filled By O.E.M.'],
    ['Dell Inc.', '0000000'],
  ])('has no key for manufacturer %p and serial %p', (manufacturer, serial) => {
    expect(serialKey(manufacturer, serial)).toBeNull();
  });
});
