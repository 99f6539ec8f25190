// Enrolls a bench fleet into a running gateway's database and writes its credentials file, for the k6 script
// in load/ or a fleet started by hand:
//
//   node services/agent-gateway/bench/enroll-fleet.ts --agents 1000 --database-prefix converge \
//        --out /tmp/fleet.json [--tenants 10] [--mongo-uri mongodb://127.0.0.1:27117/]
//
// The file holds live credentials: keep it out of the repository and delete it after the run.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stack } from '@converge/testing';
import { enrollFleet } from './fleet-enrollment.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    tenants: { type: 'string', default: '10' },
    'database-prefix': { type: 'string', default: 'converge' },
    'mongo-uri': { type: 'string', default: stack.mongoUri },
    out: { type: 'string' },
    seed: { type: 'string', default: '7' },
  },
});
if (!values.out) throw new Error('--out <file> is required');

const startedAt = performance.now();
const fleet = await enrollFleet({
  mongoUri: values['mongo-uri'],
  databasePrefix: values['database-prefix'],
  agents: Number(values.agents),
  tenants: Number(values.tenants),
  runId: `bench-${randomBytes(4).toString('hex')}`,
  seed: Number(values.seed),
});
writeFileSync(values.out, JSON.stringify(fleet), { mode: 0o600 });
console.log(
  JSON.stringify({
    enrolled: fleet.agents.length,
    out: values.out,
    seconds: Math.round((performance.now() - startedAt) / 100) / 10,
  }),
);
