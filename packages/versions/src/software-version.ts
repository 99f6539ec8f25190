// Software versions as detection reports them (the last output line of a detection script).
//
// Rule: a version of one to four dot-separated decimal parts (`1`, `1.2`, `10.0.19045.1`) is numeric, like
// a Windows file version; missing parts count as 0, so `1.2` equals `1.2.0.0`, and leading zeros do not
// matter (`1.02` equals `1.2`). Anything else (`2024-R1`, `1.2.3.4.5`, `1.2-beta`, empty) is opaque: opaque
// versions sort after every numeric version, among themselves by ordinal (UTF-16 code unit) comparison,
// and `isNewerVersion` never reports an opaque version as newer than a numeric one.

const numericVersion = /^\d+(\.\d+){0,3}$/;

/** A numeric version's four parts. */
export type Version = readonly [number, number, number, number];

/** The four parts of a numeric version, or null for an opaque one. */
export function parseVersion(version: string): Version | null {
  const text = version.trim();
  if (!numericVersion.test(text)) return null;
  const parts = text.split('.').map(Number);
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 0];
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareParsedVersions(a: Version, b: Version): number {
  for (let part = 0; part < 4; part++) {
    const difference = (a[part] ?? 0) - (b[part] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/** Negative when a sorts before b, 0 when equal, positive after. A total order over all strings. */
export function compareVersions(a: string, b: string): number {
  const left = parseVersion(a);
  const right = parseVersion(b);
  if (left && right) return compareParsedVersions(left, right);
  if (left) return -1;
  if (right) return 1;
  const x = a.trim();
  const y = b.trim();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Whether `candidate` should replace `installed`: an opaque candidate never replaces a numeric version. */
export function isNewerVersion(candidate: string, installed: string): boolean {
  if (parseVersion(candidate) === null && parseVersion(installed) !== null) return false;
  return compareVersions(candidate, installed) > 0;
}
