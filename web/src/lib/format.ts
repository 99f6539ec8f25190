/** A timestamp as the technician's locale shows it; a dash when there is none. */
export function when(value: string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return new Date(value).toLocaleString();
}

const finalStatuses = new Set(['passed', 'partially-passed', 'failed', 'cancelled', 'missed', 'postponed']);

export function isFinal(status: string): boolean {
  return finalStatuses.has(status);
}

/** The badge tone of a session or action status. */
export function tone(status: string | null | undefined): string {
  switch (status) {
    case 'passed':
    case 'success':
    case 'compliant':
    case 'succeeded':
      return 'ok';
    case 'failed':
    case 'cancelled':
    case 'missed':
      return 'bad';
    case 'partially-passed':
    case 'pending-connectivity':
    case 'postponed':
      return 'warn';
    default:
      return '';
  }
}

/** The query string of `params` with `changes` applied (undefined or '' removes a key). */
export function withQuery(params: URLSearchParams, changes: Record<string, string | undefined>): string {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') next.delete(key);
    else next.set(key, value);
  }
  const text = next.toString();
  return text === '' ? '' : `?${text}`;
}
