import { topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { config } from './config.ts';

await runService({
  name: 'sessions',
  config,
  topics: [{ topic: topics.sessionEvents, partitions: config.kafka.partitions }],
  start: () => Promise.resolve({}),
});
