export {
  contractEvent,
  createBus,
  type Bus,
  type BusOptions,
  type ContractEvent,
  type TopicSpec,
} from './bus.ts';
export { deadLetterTopic } from './dead-letter.ts';
export { envelopeHeaders, isEvent, type OutgoingEvent, type ReceivedEvent } from './envelope.ts';
export {
  applyIfNewer,
  redisSeenEvents,
  skipSeenEvents,
  type EventHandler,
  type RedisSeenEventsOptions,
  type SeenEvents,
} from './idempotency.ts';
export type { SubscribeOptions, Subscription } from './subscription.ts';
export {
  coPartitionedAssigner,
  PartitionNotOwnedError,
  type OwnedSubscribeOptions,
  type OwnedSubscription,
} from './owned-subscription.ts';
