import { topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { config } from './config.ts';

await runService({
  name: 'agent-gateway',
  config,
  topics: [topics.agentEvents, topics.commands, topics.commandResults].map((topic) => ({
    topic,
    partitions: config.kafka.partitions,
  })),
  start: () => Promise.resolve({}),
});
