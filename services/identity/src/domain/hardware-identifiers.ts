import { ValidationError } from '@converge/errors';

/**
 * Hardware identifiers as agents report them, normalized so that the same machine seen through two RMMs (which
 * format the SMBIOS UUID differently: braces, case, hyphens) is recognised as one.
 */

/** Why a reported hardware UUID cannot identify a computer. */
export type HardwareUuidProblem = 'missing' | 'malformed' | 'known-bad';

export type HardwareUuidReading =
  { usable: true; uuid: string } | { usable: false; problem: HardwareUuidProblem };

/**
 * UUIDs that firmware vendors ship on many machines at once, so matching on them would merge unrelated
 * computers: blank (all zeros, all F) and a widespread placeholder from white-box boards.
 */
export const builtInKnownBadHardwareUuids = [
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '03000200-0400-0500-0006-000700080009',
] as const;

const hexDigits = /^[0-9a-f]{32}$/;

/** Canonical form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower case; null when the text is not a UUID. */
export function canonicalHardwareUuid(raw: string): string | null {
  const digits = raw
    .trim()
    .replace(/^\{(.*)\}$/, '$1')
    .replaceAll('-', '')
    .toLowerCase();
  if (!hexDigits.test(digits)) return null;
  return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
}

/**
 * The set of UUIDs treated as no UUID at all: the built-in ones plus an installation's own. A malformed extra
 * entry is a configuration mistake, so it is rejected rather than silently never matching.
 */
export function knownBadHardwareUuids(extra: readonly string[]): ReadonlySet<string> {
  const set = new Set<string>(builtInKnownBadHardwareUuids);
  for (const entry of extra) {
    const uuid = canonicalHardwareUuid(entry);
    if (uuid === null) {
      throw new ValidationError(`"${entry}" is not a hardware UUID`, [
        { path: 'knownBadHardwareUuids', message: 'expected 32 hexadecimal digits' },
      ]);
    }
    set.add(uuid);
  }
  return set;
}

export function readHardwareUuid(raw: string | null, knownBad: ReadonlySet<string>): HardwareUuidReading {
  if (raw === null || raw.trim() === '') return { usable: false, problem: 'missing' };
  const uuid = canonicalHardwareUuid(raw);
  if (uuid === null) return { usable: false, problem: 'malformed' };
  if (knownBad.has(uuid)) return { usable: false, problem: 'known-bad' };
  return { usable: true, uuid };
}

/** Manufacturer names compared without case or repeated spaces ("Dell  Inc." is "dell inc."). */
export function normalizeManufacturer(raw: string): string {
  return raw.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Values BIOSes put in the serial number field when the vendor left it unset; they identify nothing. */
const placeholderSerialNumbers = new Set([
  'to be filled by o.e.m.',
  'default string',
  'system serial number',
  'not specified',
  'not applicable',
  'n/a',
  'none',
  '0123456789',
]);

/**
 * The key of a manufacturer and serial number pair (`serial:<manufacturer>:<serial>`), or null when either is
 * missing or the serial is a placeholder. Computers are looked up by it for the serial-number fallback.
 */
export function serialKey(manufacturer: string | null, serialNumber: string | null): string | null {
  if (manufacturer === null || serialNumber === null) return null;
  const maker = normalizeManufacturer(manufacturer);
  const serial = serialNumber.trim().toLowerCase();
  if (maker === '' || serial === '' || placeholderSerialNumbers.has(serial) || /^0+$/.test(serial))
    return null;
  return `serial:${maker}:${serial}`;
}
