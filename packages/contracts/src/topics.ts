/** Kafka topics, named `<owner>.<stream>` after the service that owns and creates them (ARCHITECTURE.md §2). */
export const topics = {
  agentEvents: 'gateway.agent-events',
  commands: 'gateway.commands',
  commandResults: 'gateway.command-results',
  computerEvents: 'identity.computer-events',
  directoryEvents: 'sync.directory-events',
  catalogEvents: 'deployments.catalog-events',
  /** Who changed the catalog and the deployments, for the audit log the sync service keeps. */
  auditEntries: 'deployments.audit-entries',
  sessionEvents: 'sessions.session-events',
  /** Internal: what changes computers, keyed by identity key, for the key's owner (architecture §9). */
  identificationInputs: 'identity.identification-inputs',
  /** Internal: what changes a maintenance session, keyed by session id, for the session's owner (architecture §9). */
  sessionCommands: 'sessions.session-commands',
} as const;

export type TopicName = (typeof topics)[keyof typeof topics];
