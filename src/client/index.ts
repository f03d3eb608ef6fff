/**
 * flex-sync-client: the browser half of the Flex Sync setup, as an ES module with no dependencies.
 * Built to assets/js/flex-sync-client.js (`import { createSyncTokenProvider } from '/js/flex-sync-client.js'`);
 * a Flex plugin can import this folder directly and let webpack bundle it.
 */
export { createSyncTokenProvider, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_STORAGE_KEY } from './token-provider';
export type {
  FetchLike,
  SyncClientEvent,
  SyncClientLike,
  SyncTokenErrorContext,
  SyncTokenProvider,
  SyncTokenProviderOptions,
} from './token-provider';
export type { SyncTokenResult } from './token-cache';
export { CLIENT_ERROR_CODES, SyncTokenError, isSyncTokenError } from './errors';
export type { SyncTokenErrorInit } from './errors';
export { defaultStorage, memoryStorage } from './storage';
export type { KeyValueStorage } from './storage';
export { DEFAULT_REFRESH_RETRY_POLICY, DEFAULT_RETRY_POLICY, backoffDelayMs, parseRetryAfter } from './backoff';
export type { RetryPolicy } from './backoff';
export { expiresAtOf, isExpired, withoutExpired } from './expiry';
export { MAX_NEWEST, newestItems } from './newest';
export type { ItemsSource, PageLike } from './newest';
export type { ExpiringItem, ExpiryValue } from './expiry';
// The map naming contract, shared with the server (pure code, safe in browsers).
export { RECENT_CALLS_MAP_PREFIX, isWorkerSid, recentCallsMapName } from '../recent-calls/map-name';
export type { RecentCallItem } from '../recent-calls/recent-call-item';
