export {
  connectMongo,
  mongoReadiness,
  storeOperations,
  type ConnectMongoOptions,
} from './mongo-connection.ts';
export {
  decodeCursor,
  encodeCursor,
  pageLimits,
  pageQuery,
  resolveLimit,
  toPage,
  type Page,
  type PageQuery,
  type PageRequest,
  type SortDirection,
} from './cursor-pagination.ts';
export { updateVersioned } from './optimistic-update.ts';
export { deleteOneDocument, findOneDocument, updateOneDocument } from './single-document.ts';
export { isDuplicateKeyError } from './duplicate-key.ts';
export {
  fromStoredEntry,
  outboxEntry,
  withOutbox,
  type OutboxEntry,
  type OutboxEvent,
  type OutboxFields,
  type StoredOutboxEntry,
} from './outbox.ts';
export { outboxPlugin } from './outbox.schema.ts';
export { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './outbox-relay.ts';
export { TenantRepository, type ListRequest, type TenantDocument } from './tenant-repository.ts';
export {
  allTenants,
  asTenantId,
  scopedFilter,
  scopeIncludes,
  type TenantId,
  type TenantScope,
} from './tenant-id.ts';
export { createSecretCipher, type SecretCipher } from './secret-cipher.ts';
export { createCommandSecrets, type CommandSecretBinding, type CommandSecrets } from './command-secrets.ts';
export {
  acquireFence,
  fenceId,
  fenceIdPrefix,
  replaceStatement,
  writeFencedBatch,
  writeFencedBatches,
  type AggregateCollection,
  type FencedBatch,
  type FenceDocument,
  type PartitionFence,
} from './partition-fence.ts';
export { rawCollection } from './single-document.ts';
