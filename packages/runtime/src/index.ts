export { runService } from './run-service.ts';
export type { RunningService, ServiceContext, ServiceDefinition, ServiceParts } from './run-service.ts';
export { redisReadiness } from './redis.ts';
export { outboxPublisher } from './outbox-publisher.ts';
export { startOwnerReplies, type OwnerReplies } from './owner-replies.ts';
