/**
 * Reads an agent's recent calls for /recent-calls: the whole map (it holds one agent's last 30 days of calls), minus
 * the items whose `date_expires` has passed by the Twilio server's clock (TTL removal is eventual), newest first,
 * one page at a time.
 *
 * Why the whole map: items are keyed by call SID (the naming contract), so Sync's own order (by key) says nothing
 * about time, and expired items are still listed until Sync removes them. Sorting by start time therefore needs every
 * item; Sync lists at most 100 items per request, so a map of N calls costs ceil(N / 100) reads, bounded by
 * RECENT_CALLS_MAX_ITEMS and the request's deadline.
 */
import type { Twilio } from 'twilio';
import type { SyncMapItemInstance } from 'twilio/lib/rest/sync/v1/service/syncMap/syncMapItem';
import { ConfigError } from '../config/errors';
import { ERROR_CODES, HttpError } from '../http/errors';
import type { Deadline } from '../twilio/deadline';
import { hasStatus } from '../twilio/errors';
import { recentCallsMapName } from './map-name';
import { encodePageToken, type ListPosition, type PageCursor } from './page-token';
import type { PageLike } from './paging';
import { RECENT_CALLS_ERRORS } from './read-errors';

/** Sync's largest list page. */
export const SYNC_PAGE_SIZE = 100;
export const PAGE_SIZE = { default: 50, max: 100 } as const;

/** One call as /recent-calls answers it. Dates are ISO 8601 UTC; null where the item does not say. */
export interface RecentCall {
  /** The Sync item key (one per completed reservation: the task's creation second and SID). */
  key: string;
  /** Null for an outbound call whose customer leg was not identified. */
  callSid: string | null;
  taskSid: string | null;
  direction: string | null;
  from: string | null;
  to: string | null;
  queue: string | null;
  startedAt: string;
  endedAt: string | null;
  durationSeconds: number | null;
  expiresAt: string | null;
}

/** What the reader needs of a Sync map item (the SDK's instance has it; tests can build it by hand). */
export interface StoredItem {
  key: string;
  data: unknown;
  dateExpires: Date | null;
  dateCreated: Date | null;
}

interface SortableCall extends ListPosition {
  call: RecentCall;
}

export interface RecentCallsPage {
  calls: RecentCall[];
  nextPageToken: string | null;
}

/**
 * Every item of the worker's map, or null when it has no map (an agent who has handled no call yet, or whose map
 * expired). Throws ConfigError when the Sync service itself is missing, so a wrong SYNC_SERVICE_SID is not mistaken
 * for "no calls".
 */
export async function readMapItems(
  client: Twilio,
  options: { serviceSid: string; workerSid: string; maxItems: number; deadline: Deadline },
): Promise<StoredItem[] | null> {
  const service = client.sync.v1.services(options.serviceSid);
  const items: StoredItem[] = [];
  let page: PageLike<SyncMapItemInstance>;
  try {
    page = await service.syncMaps(recentCallsMapName(options.workerSid)).syncMapItems.page({ pageSize: SYNC_PAGE_SIZE });
  } catch (error) {
    if (hasStatus(error, 401) || hasStatus(error, 403)) {
      throw new ConfigError('AUTH_TOKEN', 'was refused by Twilio Sync: check ACCOUNT_SID and AUTH_TOKEN');
    }
    if (!hasStatus(error, 404)) throw error;
    await assertServiceExists(client, options.serviceSid);
    return null;
  }
  for (let pages = 1; ; pages++) {
    items.push(...page.instances);
    if (items.length > options.maxItems) {
      throw new HttpError(
        500,
        RECENT_CALLS_ERRORS.TOO_MANY_ITEMS,
        `This worker's map holds more than ${options.maxItems} items (RECENT_CALLS_MAX_ITEMS)`,
      );
    }
    const next = page.nextPage();
    if (!next || page.instances.length === 0) break;
    if (options.deadline.expired()) {
      throw new HttpError(503, ERROR_CODES.UPSTREAM_UNAVAILABLE, `Reading the map took too long (${pages} pages)`, {
        'Retry-After': '5',
      });
    }
    page = await next;
  }
  return items;
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
 * places it.
 */
function toSortable(item: StoredItem, nowMs: number): SortableCall | undefined {
  const expiresAtMs = item.dateExpires ? item.dateExpires.getTime() : null;
  if (expiresAtMs !== null && expiresAtMs <= nowMs) return undefined;
  const data = (item.data !== null && typeof item.data === 'object' ? item.data : {}) as Record<string, unknown>;
  let startedAtMs = typeof data.startedAt === 'string' ? Date.parse(data.startedAt) : Number.NaN;
  if (Number.isNaN(startedAtMs)) startedAtMs = item.dateCreated?.getTime() ?? 0;
  const duration = data.durationSeconds;
  return {
    startedAtMs,
    key: item.key,
    call: {
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
    },
  };
}

/** Newest first: start time descending, then key descending (a total order, which the cursor relies on). */
function compareNewestFirst(a: ListPosition, b: ListPosition): number {
  if (a.startedAtMs !== b.startedAtMs) return b.startedAtMs - a.startedAtMs;
  return a.key < b.key ? 1 : a.key > b.key ? -1 : 0;
}

/**
 * The page of `pageSize` unexpired calls that follows `after` (from the head when absent), newest first, and the
 * token of the page after it (null on the last page).
 */
export function pageOfCalls(
  items: readonly StoredItem[],
  options: { workerSid: string; nowMs: number; pageSize: number; after?: ListPosition },
): RecentCallsPage {
  const after = options.after;
  const live = items
    .map((item) => toSortable(item, options.nowMs))
    .filter((c): c is SortableCall => c !== undefined && (!after || compareNewestFirst(after, c) < 0))
    .sort(compareNewestFirst);
  const page = live.slice(0, options.pageSize);
  const last = page[page.length - 1];
  const cursor: PageCursor | undefined =
    live.length > page.length && last ? { workerSid: options.workerSid, startedAtMs: last.startedAtMs, key: last.key } : undefined;
  return { calls: page.map((c) => c.call), nextPageToken: cursor ? encodePageToken(cursor) : null };
}
