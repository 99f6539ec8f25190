/** Kafka topics, named `<owner>.<stream>` after the service that owns and creates them (ARCHITECTURE.md §2). */
export const topics = {
  agentEvents: 'gateway.agent-events',
  commands: 'gateway.commands',
  commandResults: 'gateway.command-results',
  computerEvents: 'identity.computer-events',
  directoryEvents: 'sync.directory-events',
  catalogEvents: 'deployments.catalog-events',
  sessionEvents: 'sessions.session-events',
} as const;

export type TopicName = (typeof topics)[keyof typeof topics];
