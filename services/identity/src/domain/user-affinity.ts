/**
 * User computer affinity: which person a computer belongs to, inferred from who is seen logged on. Like the
 * reference product, it keeps a rolling list of the last UPNs seen and matches them to people synced from the
 * directory.
 */

export const affinityHistoryLength = 10;

export interface UserAffinity {
  /** UPNs seen logged on, oldest first, lower case, at most `affinityHistoryLength`; repeats count as votes. */
  recentUpns: readonly string[];
  /** A person a technician chose; it overrides what the logons suggest. */
  pinnedPersonId: string | null;
  /** Shared or kiosk computers a technician excluded: they have no primary person at all. */
  excluded: boolean;
}

export const noAffinity: UserAffinity = { recentUpns: [], pinnedPersonId: null, excluded: false };

/**
 * Appends the UPNs of one facts report (each once, in the order reported) and drops the oldest beyond the
 * history length. A report with nobody logged on leaves the history as it is, so an idle night does not wash
 * out the person who uses the computer by day.
 */
export function recordLoggedOnUpns(affinity: UserAffinity, loggedOnUpns: readonly string[]): UserAffinity {
  const seen = [...new Set(loggedOnUpns.map((upn) => upn.trim().toLowerCase()).filter((upn) => upn !== ''))];
  if (seen.length === 0) return affinity;
  return { ...affinity, recentUpns: [...affinity.recentUpns, ...seen].slice(-affinityHistoryLength) };
}

export type PrimaryPerson =
  | { kind: 'pinned'; personId: string }
  | { kind: 'inferred'; personId: string; upn: string }
  | { kind: 'none'; reason: 'excluded' | 'stale' | 'no-matching-person' };

export interface PrimaryPersonContext {
  /** People from the directory by lower-case UPN. */
  personIdByUpn: ReadonlyMap<string, string>;
  /** When the computer was last seen online (ISO 8601). */
  lastSeenAt: string;
  now: string;
  /** A computer offline longer than this has no inferred primary person: its logons no longer say who uses it. */
  staleAfterDays: number;
}

const dayMs = 24 * 60 * 60 * 1000;

/**
 * The computer's primary person. Rules, in order: an excluded computer has none; a technician's pin wins; a
 * computer offline for more than `staleAfterDays` has none; otherwise the person whose UPN appears most often in
 * the history (UPNs matching no person are ignored), the most recently seen of them on a tie.
 */
export function primaryPerson(affinity: UserAffinity, context: PrimaryPersonContext): PrimaryPerson {
  if (affinity.excluded) return { kind: 'none', reason: 'excluded' };
  if (affinity.pinnedPersonId !== null) return { kind: 'pinned', personId: affinity.pinnedPersonId };
  if (Date.parse(context.now) - Date.parse(context.lastSeenAt) > context.staleAfterDays * dayMs) {
    return { kind: 'none', reason: 'stale' };
  }
  const votes = new Map<string, { count: number; lastIndex: number }>();
  affinity.recentUpns.forEach((upn, index) => {
    if (!context.personIdByUpn.has(upn)) return;
    votes.set(upn, { count: (votes.get(upn)?.count ?? 0) + 1, lastIndex: index });
  });
  let best: { upn: string; count: number; lastIndex: number } | null = null;
  for (const [upn, vote] of votes) {
    if (
      best === null ||
      vote.count > best.count ||
      (vote.count === best.count && vote.lastIndex > best.lastIndex)
    ) {
      best = { upn, ...vote };
    }
  }
  const personId = best === null ? undefined : context.personIdByUpn.get(best.upn);
  if (best === null || personId === undefined) return { kind: 'none', reason: 'no-matching-person' };
  return { kind: 'inferred', personId, upn: best.upn };
}
