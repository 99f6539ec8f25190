// Latency figures for the gateway bench: exact quantiles from samples (fleet receipts, the floor's own
// dispatch timings) and quantiles interpolated from a Prometheus histogram (the gateway's dispatch metric).

/**
 * Milliseconds since the epoch with sub-millisecond resolution. The driver, the fleet and the floor run on
 * one machine, so their readings of this clock compare directly (Date.now() would cost up to 1 ms).
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface Quantiles {
  p50: number;
  p99: number;
  p999: number;
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** Nearest-rank quantiles of `samples` (sorted in place), in the samples' unit, or undefined when empty. */
export function quantilesOf(samples: Float64Array): Quantiles | undefined {
  if (samples.length === 0) return undefined;
  samples.sort();
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  return { p50: round3(at(0.5)), p99: round3(at(0.99)), p999: round3(at(0.999)) };
}

/** A histogram's cumulative bucket counts by upper bound (the `le` label; +Infinity last). */
export type CumulativeBuckets = Map<number, number>;

/**
 * Sums the cumulative buckets of every series of histogram `name` in a Prometheus text exposition (all label
 * sets together, e.g. both transports or outcomes).
 */
export function histogramBuckets(exposition: string, name: string): CumulativeBuckets {
  const buckets: CumulativeBuckets = new Map();
  const prefix = `${name}_bucket{`;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const le = /[{,]le="([^"]+)"/.exec(line)?.[1];
    const count = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le === undefined || Number.isNaN(count)) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + count);
  }
  return buckets;
}

/** The sum of every series of counter `name` (with `_total`, as exported) whose labels include `label`. */
export function counterTotal(exposition: string, name: string, label: string): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}_total{`) && !line.startsWith(`${name}{`)) continue;
    if (!line.includes(label)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isNaN(value)) total += value;
  }
  return total;
}

/** What was observed between two scrapes of the same histogram. */
export function bucketsBetween(before: CumulativeBuckets, after: CumulativeBuckets): CumulativeBuckets {
  const delta: CumulativeBuckets = new Map();
  for (const [bound, count] of after) delta.set(bound, count - (before.get(bound) ?? 0));
  return delta;
}

/**
 * Quantiles by linear interpolation inside the bucket that holds each rank, as Prometheus'
 * `histogram_quantile` does: exact only to the bucket's width. A quantile in the +Inf bucket is reported as
 * the highest finite bound (a floor, not the value). Undefined when nothing was observed.
 */
export function histogramQuantiles(buckets: CumulativeBuckets): Quantiles | undefined {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Number.POSITIVE_INFINITY) ?? 0;
  if (total <= 0) return undefined;
  const quantile = (q: number): number => {
    const rank = q * total;
    let lower = 0;
    let below = 0;
    for (const bound of bounds) {
      const count = buckets.get(bound)!;
      if (count >= rank) {
        if (bound === Number.POSITIVE_INFINITY) return lower;
        return lower + ((bound - lower) * (rank - below)) / Math.max(count - below, 1);
      }
      lower = bound;
      below = count;
    }
    return lower;
  };
  return { p50: round3(quantile(0.5)), p99: round3(quantile(0.99)), p999: round3(quantile(0.999)) };
}

/** The same quantiles in another unit (a histogram in seconds reported in milliseconds). */
export function scaled(quantiles: Quantiles | undefined, factor: number): Quantiles | undefined {
  if (!quantiles) return undefined;
  return {
    p50: round3(quantiles.p50 * factor),
    p99: round3(quantiles.p99 * factor),
    p999: round3(quantiles.p999 * factor),
  };
}
