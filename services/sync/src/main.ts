import { topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { config } from './config.ts';

await runService({
  name: 'sync',
  config,
  topics: [{ topic: topics.directoryEvents, partitions: config.kafka.partitions }],
  start: () => Promise.resolve({}),
});
