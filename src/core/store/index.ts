export { StoreUnavailableError, StoreFullError, NotOwnerError, DEFAULT_STORE_LIMITS } from './types';
export type {
  NotifierStore,
  DigestGroups,
  SharedGroups,
  ForwardedEvent,
  GroupTiming,
  HeldEvent,
  StoredGroup,
  GroupsOptions,
  Outbox,
  OutboxEntry,
  NewOutboxEntry,
  OutboxStats,
  OutboxOptions,
  SeenClaim,
  SeenIds,
  StoreLimits,
  MaybePromise,
  RateGate,
  HistoryBackend,
} from './types';
export { RedisStore, acquireRedisStore, releaseRedisStore, redactRedisUrl, DEFAULT_LEASE_MS } from './redis-store';
export type { RedisStoreOptions } from './redis-store';
export { FileStore, acquireFileStore, releaseFileStore } from './file-store';
export type { FileStoreOptions } from './file-store';
export { FileOutbox, DEFAULT_WINDOW_ITEMS, DEFAULT_WINDOW_BYTES } from './file-outbox';
export { FileSeenIds, DEFAULT_DEDUP_WINDOW_MS, DEFAULT_DEDUP_MAX } from './file-seen';
export { AppendWriter, FILE_MODE, DIR_MODE } from './writer';
export { FileGroups } from './file-groups';
