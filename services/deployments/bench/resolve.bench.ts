// Resolves every computer of a synthetic estate (100,000 computers, 2,000 tenants, 1,000 deployments) on
// one core, then asks the reverse question for one cross-tenant deployment. Prints one JSON line.
import { computersWhereDeploymentWins } from '../src/domain/deployment-reach.ts';
import { prepareEstate, resolveComputer } from '../src/domain/estate.ts';
import type { ResolveOptions } from '../src/domain/types.ts';
import { benchNow, buildSyntheticEstate } from './synthetic-estate.ts';

const size = { computers: 100_000, tenants: 2_000, deployments: 1_000, software: 300, tasks: 60 };
const targets = { estateSeconds: 5, p99Milliseconds: 1, reverseSeconds: 1 };

const synthetic = buildSyntheticEstate(size);
// A session's plan: what every maintenance session of the estate asks for (the preview adds explanations).
const options: ResolveOptions = { sessionKind: 'full', now: benchNow, explain: false };

const prepareStarted = performance.now();
const estate = prepareEstate(synthetic.directory, synthetic.catalog, synthetic.deployments);
const prepareSeconds = (performance.now() - prepareStarted) / 1000;

// Warm the JIT on a slice so the timed pass measures steady state, as a long-running service would see it.
for (const computer of synthetic.computers.slice(0, 2_000)) resolveComputer(estate, computer, options);

const perComputer = new Float64Array(synthetic.computers.length);
let plannedItems = 0;
const estateStarted = process.hrtime.bigint();
for (let index = 0; index < synthetic.computers.length; index++) {
  const started = process.hrtime.bigint();
  plannedItems += resolveComputer(estate, synthetic.computers[index]!, options).plan.length;
  perComputer[index] = Number(process.hrtime.bigint() - started) / 1e6;
}
const estateSeconds = Number(process.hrtime.bigint() - estateStarted) / 1e9;
perComputer.sort();

// The same estate with explanations, as the REST preview asks for one computer at a time; reported, no target.
const explainedOptions: ResolveOptions = { ...options, explain: true };
const explainedStarted = performance.now();
for (const computer of synthetic.computers) resolveComputer(estate, computer, explainedOptions);
const explainedSeconds = (performance.now() - explainedStarted) / 1000;
const percentile = (p: number) =>
  perComputer[Math.min(perComputer.length - 1, Math.floor(perComputer.length * p))]!;

const crossTenant = synthetic.deployments.find(
  (deployment) =>
    deployment.enabled && deployment.enforcement === 'required' && deployment.target.kind === 'all-computers',
)!;
const reverseStarted = performance.now();
const winsOn = computersWhereDeploymentWins(estate, crossTenant.id, synthetic.computers, options);
const reverseSeconds = (performance.now() - reverseStarted) / 1000;

const round = (value: number, digits: number) => Number(value.toFixed(digits));
console.log(
  JSON.stringify({
    bench: 'resolve',
    computers: size.computers,
    tenants: size.tenants,
    deployments: size.deployments,
    prepare_seconds: round(prepareSeconds, 3),
    planned_items_per_computer: round(plannedItems / size.computers, 2),
    seconds: round(estateSeconds, 3),
    target_seconds: targets.estateSeconds,
    explained_seconds: round(explainedSeconds, 3),
    met_seconds: estateSeconds < targets.estateSeconds,
    p50_ms: round(percentile(0.5), 4),
    p99_ms: round(percentile(0.99), 4),
    target_p99_ms: targets.p99Milliseconds,
    met_p99: percentile(0.99) < targets.p99Milliseconds,
    reverse_deployment: crossTenant.id,
    reverse_wins_on: winsOn.length,
    reverse_seconds: round(reverseSeconds, 3),
    target_reverse_seconds: targets.reverseSeconds,
    met_reverse: reverseSeconds < targets.reverseSeconds,
    met:
      estateSeconds < targets.estateSeconds &&
      percentile(0.99) < targets.p99Milliseconds &&
      reverseSeconds < targets.reverseSeconds,
  }),
);
