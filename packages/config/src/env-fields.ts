import { z } from 'zod';

// Every helper reads an environment string. Messages describe the expected form and never repeat the value:
// the variable may hold a secret.

/** A TCP port; 0 lets the OS pick one (tests). */
export function port() {
  return z
    .string()
    .regex(/^\d+$/, 'must be an integer from 0 to 65535')
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(0, 'must be an integer from 0 to 65535')
        .max(65535, 'must be an integer from 0 to 65535'),
    );
}

/** An absolute URL; `protocols` (without the colon, e.g. `['redis', 'rediss']`) limits the schemes accepted. */
export function url(protocols?: readonly string[]) {
  return z.string().refine(
    (text) => {
      if (!URL.canParse(text)) return false;
      return protocols === undefined || protocols.includes(new URL(text).protocol.slice(0, -1));
    },
    { error: protocols ? `must be a URL (${protocols.map((p) => `${p}://`).join(', ')})` : 'must be a URL' },
  );
}

/**
 * A 256-bit AES key, base64 (`openssl rand -base64 32`), as the bytes. Never given a default: a key that ships
 * with the code protects nothing.
 */
export function encryptionKey() {
  return z
    .string()
    .refine((text) => /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, 'base64').length === 32, {
      error: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)',
    })
    .transform((text) => Buffer.from(text, 'base64'));
}

/** A comma-separated list; items are trimmed and empty items dropped. */
export function csv() {
  return z.string().transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );
}

const boolWords: Readonly<Record<string, boolean>> = { true: true, '1': true, false: false, '0': false };

/** 'true' / 'false' / '1' / '0'; anything else (a typo like 'ture') is rejected rather than read as false. */
export function bool() {
  return z
    .string()
    .refine((text) => Object.hasOwn(boolWords, text), { error: "must be 'true', 'false', '1' or '0'" })
    .transform((text) => boolWords[text] === true);
}

const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from '250ms', '30s', '5m', '1h' or a plain number of milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const [, amount = '', unit = 'ms'] = match;
  const factor = durationUnits[unit];
  return factor === undefined ? undefined : Math.round(Number(amount) * factor);
}

/** A duration in milliseconds (see `parseDuration`). */
export function duration() {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: "must be a duration such as '250ms', '30s', '5m', '1h' or milliseconds",
      });
      return z.NEVER;
    }
    return ms;
  });
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** A pino log level. */
export function logLevel() {
  return z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` });
}
