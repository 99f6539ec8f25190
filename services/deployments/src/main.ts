import { topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { config } from './config.ts';

await runService({
  name: 'deployments',
  config,
  topics: [{ topic: topics.catalogEvents, partitions: config.kafka.partitions }],
  start: () => Promise.resolve({}),
});
