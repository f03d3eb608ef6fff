/**
 * Reads an agent's recent calls for /recent-calls, newest first, one page at a time, without reading the whole map.
 *
 * Item keys sort by time (item-key.ts: the task's creation second, then the task SID), so Sync's own order is the
 * list's order: items are listed with `Order=desc`, and a page continues after the last key it answered
 * (`From=<key>`, `Bounds=exclusive`). Items whose `date_expires` has passed by the Twilio server's clock are left
 * out (TTL removal is eventual). Expired items are the oldest ones (an item expires TTL days after its call started,
 * and keys follow the calls' tasks), so the read stops at the end of the Sync page where the first expired item is
 * met: what follows is older still (an item whose call started minutes before an older-keyed one may be left out
 * minutes before it expires). A page of N calls therefore costs one Sync request (PageSize N + 1, at most 100) in
 * the common case, whatever the size of the map.
 *
 * Items whose key is not of that form (written by something else) are not calls of this contract: skipped.
 */
import type { Twilio } from 'twilio';
import type { SyncMapItemInstance } from 'twilio/lib/rest/sync/v1/service/syncMap/syncMapItem';
import { ConfigError } from '../config/errors';
import type { Deadline } from '../twilio/deadline';
import { hasStatus } from '../twilio/errors';
import { ITEM_KEY_PATTERN } from './item-key';
import { recentCallsMapName } from './map-name';
import { encodePageToken, type PageCursor } from './page-token';
import type { RecentCallItem } from './recent-call-item';
import { hasNextPage, type PageLike } from './paging';
import { MapReadOutOfTime } from './read-errors';

/** Sync's largest list page (official spec: every Sync list's PageSize is at most 100). */
export const SYNC_PAGE_SIZE = 100;
export const PAGE_SIZE = { default: 50, max: 100 } as const;

/**
 * One call as /recent-calls answers it: the item's fields (recent-call-item.ts), null where the item does not say
 * (items another writer shaped differently), with the item's key and expiry. Dates are ISO 8601 UTC.
 */
export type RecentCall = { [Field in keyof RecentCallItem]: RecentCallItem[Field] | null } & {
  /** The Sync item key (one per completed reservation: the task's creation second and SID). */
  key: string;
  /** Always set: the item's creation time stands in when the item has no readable one. */
  startedAt: string;
  expiresAt: string | null;
};

/** What the reader needs of a Sync map item (the SDK's instance has it; tests can build it by hand). */
export interface StoredItem {
  key: string;
  data: unknown;
  dateExpires: Date | null;
  dateCreated: Date | null;
}

export interface RecentCallsPage {
  calls: RecentCall[];
  nextPageToken: string | null;
}

/** One listing request: up to `pageSize` items of the map, newest key first, strictly after `afterKey`. */
export type ItemLister = (request: { pageSize: number; afterKey?: string }) => Promise<PageLike<StoredItem>>;

export interface PageStats {
  /** Sync list requests made for this page. */
  requests: number;
  /** Items looked at (live, expired and foreign together). */
  itemsRead: number;
}

/** The SDK lister of `workerSid`'s map: `Order=desc`, `From` + `Bounds=exclusive` after the first page. */
export function syncItemLister(client: Twilio, serviceSid: string, workerSid: string): ItemLister {
  const items = client.sync.v1.services(serviceSid).syncMaps(recentCallsMapName(workerSid)).syncMapItems;
  return ({ pageSize, afterKey }) =>
    items.page(
      afterKey === undefined
        ? { order: 'desc', pageSize }
        : { order: 'desc', pageSize, from: afterKey, bounds: 'exclusive' },
    ) as Promise<PageLike<SyncMapItemInstance>>;
}

/**
 * The page of `pageSize` unexpired calls after `after` (from the newest when absent) and the token of the next one
 * (null when no call follows). Pages through Sync only as far as needed: until it has `pageSize` calls and knows
 * whether one more follows, or meets an expired item, or the map ends.
 */
export async function readRecentCallsPage(
  list: ItemLister,
  options: { workerSid: string; nowMs: () => number; pageSize: number; after?: PageCursor; deadline?: Deadline },
): Promise<RecentCallsPage & { stats: PageStats }> {
  const calls: RecentCall[] = [];
  const stats: PageStats = { requests: 0, itemsRead: 0 };
  // One more than asked: seeing it tells whether a next page exists, without another request.
  const syncPageSize = Math.min(SYNC_PAGE_SIZE, options.pageSize + 1);
  let afterKey = options.after?.key;
  let more = false;
  for (;;) {
    if (stats.requests > 0 && options.deadline?.expired()) {
      throw new MapReadOutOfTime(stats.requests);
    }
    const page = await list({ pageSize: syncPageSize, afterKey });
    stats.requests += 1;
    const nowMs = options.nowMs();
    let expiredSeen = false;
    for (const item of page.instances) {
      stats.itemsRead += 1;
      afterKey = item.key;
      if (!ITEM_KEY_PATTERN.test(item.key)) continue;
      const call = toCall(item, nowMs);
      if (!call) {
        expiredSeen = true;
        continue;
      }
      if (calls.length === options.pageSize) {
        more = true;
        break;
      }
      calls.push(call);
    }
    if (more || expiredSeen || page.instances.length < syncPageSize || !hasNextPage(page)) break;
    // A full page of 100 (Sync's largest) with more items behind it: answer it with a token rather than read on just
    // to learn whether a call follows (the next page may then come back empty, with no token).
    if (calls.length === options.pageSize) {
      more = true;
      break;
    }
  }
  const last = calls[calls.length - 1];
  const nextPageToken = more && last ? encodePageToken({ workerSid: options.workerSid, key: last.key }) : null;
  return { calls, nextPageToken, stats };
}

/**
 * A missing map is an agent with no calls (none handled yet, or the map expired); a missing service is a
 * configuration error (SYNC_SERVICE_SID), never "no calls"; refused credentials likewise (AUTH_TOKEN).
 */
export async function readOrEmpty<T>(client: Twilio, serviceSid: string, read: () => Promise<T>, empty: T): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (hasStatus(error, 401) || hasStatus(error, 403)) {
      throw new ConfigError('AUTH_TOKEN', 'was refused by Twilio Sync: check ACCOUNT_SID and AUTH_TOKEN');
    }
    if (!hasStatus(error, 404)) throw error;
    await assertServiceExists(client, serviceSid);
    return empty;
  }
}

async function assertServiceExists(client: Twilio, serviceSid: string): Promise<void> {
  try {
    await client.sync.v1.services(serviceSid).fetch();
  } catch (error) {
    if (hasStatus(error, 404)) throw new ConfigError('SYNC_SERVICE_SID', 'names no Sync service in this account');
    throw error;
  }
}

const text = (value: unknown, max: number): string | null =>
  typeof value === 'string' && value !== '' ? value.slice(0, max) : null;

const isoOrNull = (value: unknown): string | null => {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};

/**
 * The call an item holds, or undefined when it has expired at `nowMs` (Twilio's clock). Tolerant of items another
 * writer shaped differently: missing fields become null, and without a readable `startedAt` the item's creation time
 * stands in.
 */
export function toCall(item: StoredItem, nowMs: number): RecentCall | undefined {
  const expiresAtMs = item.dateExpires ? item.dateExpires.getTime() : null;
  if (expiresAtMs !== null && expiresAtMs <= nowMs) return undefined;
  const data = (item.data !== null && typeof item.data === 'object' ? item.data : {}) as Record<string, unknown>;
  let startedAtMs = typeof data.startedAt === 'string' ? Date.parse(data.startedAt) : Number.NaN;
  if (Number.isNaN(startedAtMs)) startedAtMs = item.dateCreated?.getTime() ?? 0;
  const duration = data.durationSeconds;
  return {
    key: item.key,
    callSid: text(data.callSid, 64),
    taskSid: text(data.taskSid, 64),
    direction: text(data.direction, 32),
    from: text(data.from, 64),
    to: text(data.to, 64),
    queue: text(data.queue, 128),
    startedAt: new Date(startedAtMs).toISOString(),
    endedAt: isoOrNull(data.endedAt),
    durationSeconds: typeof duration === 'number' && Number.isFinite(duration) && duration >= 0 ? duration : null,
    expiresAt: expiresAtMs === null ? null : new Date(expiresAtMs).toISOString(),
  };
}
