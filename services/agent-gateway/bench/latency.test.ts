import { describe, expect, it } from '@jest/globals';
import {
  bucketsBetween,
  counterTotal,
  histogramBuckets,
  histogramQuantiles,
  quantilesOf,
} from './latency.ts';

const exposition = (counts: [string, number][], path: string) =>
  counts.map(
    ([le, count]) => `gateway_commands_dispatch_duration_bucket{path="${path}",le="${le}"} ${count}`,
  );

describe('bench latency figures', () => {
  it('takes nearest-rank quantiles from samples', () => {
    const samples = Float64Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1..1000, unsorted
    expect(quantilesOf(samples)).toEqual({ p50: 500, p99: 990, p999: 999 });
    expect(quantilesOf(new Float64Array(0))).toBeUndefined();
  });

  it('sums every series of a histogram and interpolates inside the bucket holding each rank', () => {
    const text = [
      '# TYPE gateway_commands_dispatch_duration histogram',
      ...exposition(
        [
          ['1', 60],
          ['2', 90],
          ['5', 99],
          ['+Inf', 100],
        ],
        'local',
      ),
      ...exposition(
        [
          ['1', 40],
          ['2', 90],
          ['5', 99],
          ['+Inf', 100],
        ],
        'forwarded',
      ),
      'gateway_commands_dispatch_duration_count{path="local"} 100',
    ].join('\n');
    const buckets = histogramBuckets(text, 'gateway_commands_dispatch_duration');
    expect(buckets.get(1)).toBe(100);
    expect(buckets.get(Number.POSITIVE_INFINITY)).toBe(200);
    // p50: rank 100 falls at the top of the first bucket; p99: rank 198 is the last of the (2, 5] bucket.
    const quantiles = histogramQuantiles(buckets)!;
    expect(quantiles.p50).toBe(1);
    expect(quantiles.p99).toBe(5);
    // p99.9 lies in +Inf: reported as the highest finite bound, a floor.
    expect(quantiles.p999).toBe(5);
  });

  it('measures only what was observed between two scrapes', () => {
    const before = new Map([
      [1, 10],
      [Number.POSITIVE_INFINITY, 10],
    ]);
    const after = new Map([
      [1, 10],
      [Number.POSITIVE_INFINITY, 20],
    ]);
    const delta = bucketsBetween(before, after);
    expect(delta.get(1)).toBe(0);
    expect(histogramQuantiles(delta)?.p50).toBe(1); // all ten new ones above the last finite bound
    expect(histogramQuantiles(bucketsBetween(after, after))).toBeUndefined();
  });

  it('sums the series of a counter that carry a label', () => {
    const text = [
      '# TYPE store_operations_total counter',
      'store_operations_total{database="run_agent_gateway",command="find"} 3',
      'store_operations_total{database="run_agent_gateway",command="update"} 2',
      'store_operations_total{database="other_agent_gateway",command="find"} 40',
    ].join('\n');
    expect(counterTotal(text, 'store_operations', 'database="run_agent_gateway"')).toBe(5);
    expect(counterTotal(text, 'store_operations', 'database="nowhere"')).toBe(0);
  });
});
