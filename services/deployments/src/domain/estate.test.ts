import { describe, it, expect } from '@jest/globals';
import { buildSyntheticEstate, benchNow } from '../../bench/synthetic-estate.ts';
import { computersWhereDeploymentWins } from './deployment-reach.ts';
import { resolve } from './deployment-resolution.ts';
import { prepareEstate, resolveComputer } from './estate.ts';
import type { ResolveOptions } from './types.ts';

const synthetic = buildSyntheticEstate(
  { computers: 400, tenants: 30, deployments: 300, software: 40, tasks: 5 },
  7,
);
const estate = prepareEstate(synthetic.directory, synthetic.catalog, synthetic.deployments);
const options: ResolveOptions = { sessionKind: 'full', now: benchNow };

describe('prepared estate', () => {
  it('resolves every computer exactly as resolving against all deployments would', () => {
    for (const computer of synthetic.computers) {
      const everything = resolve(computer, synthetic.deployments, estate.catalog, estate.directory, options);
      const prepared = resolveComputer(estate, computer, options);
      expect(prepared.plan).toEqual(everything.plan);
    }
  });

  it('picks the same winners and plan without explanations as with them', () => {
    const quiet: ResolveOptions = { ...options, explain: false };
    for (const computer of synthetic.computers) {
      const explained = resolveComputer(estate, computer, options);
      const planOnly = resolveComputer(estate, computer, quiet);
      expect(planOnly.plan).toEqual(explained.plan);
      expect(planOnly.explanations).toEqual([]);
      const explainedWinners = explained.explanations.flatMap((item) => item.winnerDeploymentId ?? []);
      // Every winner is planned once, so the plan's deployments are exactly the explained winners.
      expect(planOnly.plan.flatMap((item) => item.deploymentId ?? []).sort()).toEqual(
        explainedWinners.sort(),
      );
    }
  });

  it('resolves with explicit candidates the same way with and without explanations', () => {
    for (const computer of synthetic.computers.slice(0, 100)) {
      const explained = resolve(computer, synthetic.deployments, estate.catalog, estate.directory, options);
      const planOnly = resolve(computer, synthetic.deployments, estate.catalog, estate.directory, {
        ...options,
        explain: false,
      });
      expect(planOnly.plan).toEqual(explained.plan);
    }
  });

  it('finds where a deployment wins exactly as resolving each computer would', () => {
    for (const deployment of synthetic.deployments.slice(0, 60)) {
      const expected = synthetic.computers
        .filter((computer) =>
          resolveComputer(estate, computer, options).explanations.some(
            (item) => item.winnerDeploymentId === deployment.id,
          ),
        )
        .map((computer) => computer.id);
      expect(computersWhereDeploymentWins(estate, deployment.id, synthetic.computers, options)).toEqual(
        expected,
      );
    }
  });
});
