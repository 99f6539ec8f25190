import { topics } from '@converge/contracts';
import { runService } from '@converge/runtime';
import { config } from './config.ts';
import { startGateway } from './gateway.ts';

await runService({
  name: 'agent-gateway',
  config,
  topics: [topics.agentEvents, topics.commands, topics.commandResults].map((topic) => ({
    topic,
    partitions: config.kafka.partitions,
  })),
  start: startGateway,
});
