export { topics, type TopicName } from './topics.ts';
export { createCommandIds, type CommandIds } from './command-ids.ts';
export { scriptContentHash } from './script-content-hash.ts';
export {
  allContracts,
  ContractViolation,
  defineEvent,
  findContract,
  parseEventData,
  type ContractIssue,
  type EventContract,
} from './event-contract.ts';
export * from './events/agent-events.ts';
export * from './events/audit-events.ts';
export * from './events/catalog-events.ts';
export * from './events/command-events.ts';
export * from './events/computer-events.ts';
export * from './events/directory-events.ts';
export * from './events/identification-inputs.ts';
export * from './events/session-commands.ts';
export * from './events/session-events.ts';
