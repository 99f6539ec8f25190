import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayGraceProblems, secretProblems, securityProblems } from './chart-rules.ts';
import { brokenValues, chartDir, helmBinary, renderChart, type Manifest } from './rendered-chart.ts';

// Every scenario the chart is validated with: the defaults, ci/ and the examples.
const scenarios: [string, string[]][] = [
  ['the default values', []],
  ...['ci', 'examples'].flatMap((dir) =>
    readdirSync(join(chartDir, dir))
      .filter((file) => file.endsWith('-values.yaml'))
      .map((file): [string, string[]] => [`${dir}/${file}`, [join(chartDir, dir, file)]]),
  ),
];

describe('the converge chart, rendered', () => {
  const rendered = new Map<string, Manifest[]>();
  beforeAll(() => {
    helmBinary(); // builds the pinned helm on a machine that has none yet
    for (const [name, files] of scenarios) rendered.set(name, renderChart(files));
  }, 900_000);

  it.each(scenarios)(
    'gives the gateway a grace period beyond its drain and its own exit deadline (%s)',
    (name) => {
      expect(gatewayGraceProblems(rendered.get(name)!)).toEqual([]);
    },
  );

  it.each(scenarios)('runs every container as non-root on a read-only root filesystem (%s)', (name) => {
    expect(securityProblems(rendered.get(name)!)).toEqual([]);
  });

  it.each(scenarios)('puts no secret value in a ConfigMap or a manifest (%s)', (name) => {
    expect(secretProblems(rendered.get(name)!)).toEqual([]);
  });

  it('finds a gateway deadline raised behind the grace period (broken values, schema skipped)', () => {
    const manifests = renderChart([brokenValues('drain-values.yaml')], { skipSchema: true });
    expect(gatewayGraceProblems(manifests)).toEqual([
      'grace period 55000 ms does not exceed the drain deadline 122000 ms',
      "grace period 55000 ms does not exceed the process's own exit deadline 126000 ms",
    ]);
  });

  it('finds containers that may run as root on a writable root filesystem (broken values)', () => {
    const problems = securityProblems(renderChart([brokenValues('writable-root-values.yaml')]));
    expect(problems).toContain(
      'Deployment/converge-agent-gateway container agent-gateway: runAsNonRoot is not true',
    );
    expect(problems).toContain('Deployment/converge-identity container identity: runs as user 0');
    expect(problems).toContain('Deployment/converge-sync container sync: root filesystem is writable');
  });

  it('finds a secret rendered into a ConfigMap (broken values, schema skipped)', () => {
    const manifests = renderChart([brokenValues('secret-in-configmap-values.yaml')], { skipSchema: true });
    expect(secretProblems(manifests)).toEqual(['ConfigMap/converge-identity holds MONGO_URI']);
  });
});
