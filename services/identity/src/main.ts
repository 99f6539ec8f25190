import { topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { config } from './config.ts';

await runService({
  name: 'identity',
  config,
  topics: [{ topic: topics.computerEvents, partitions: config.kafka.partitions }],
  start: () => Promise.resolve({}),
});
