/**
 * The newest N items of a map whose keys sort by time (the recent-calls maps: a fixed-width time prefix, then the task
 * SID), read through twilio-sync with `getItems({ order: 'desc', pageSize })`: one page in the common case, never the
 * whole map, no client-side sort. Relies only on "key order is time order".
 */
import { isExpired, type ExpiringItem } from './expiry';

/** The part of twilio-sync's SyncMap / Paginator this needs (typed structurally: no runtime dependency). */
export interface PageLike<T> {
  items: T[];
  hasNextPage: boolean;
  nextPage(): Promise<PageLike<T>>;
}

export interface ItemsSource<T> {
  getItems(args: { order: 'desc'; pageSize: number }): Promise<PageLike<T>>;
}

/** Pages read at most, whatever the map holds (expired items a sweep has not removed yet sit at the old end). */
const MAX_PAGES = 10;
/** twilio-sync answers at most 100 items per page. */
export const MAX_NEWEST = 100;

/**
 * Up to `limit` (1–100) non-expired items, newest first. Items that expired at `now` (epoch ms or a Date: pass the
 * server's time, not the browser's alone) are skipped; since every item lives the same time after its call, the first
 * expired one means the rest are older still, and reading stops there.
 */
export async function newestItems<T extends ExpiringItem>(
  map: ItemsSource<T>,
  limit: number,
  now: number | Date,
): Promise<T[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_NEWEST)
    throw new RangeError(`limit must be an integer from 1 to ${MAX_NEWEST}`);
  const out: T[] = [];
  let page = await map.getItems({ order: 'desc', pageSize: limit });
  for (let pages = 1; ; pages++) {
    for (const item of page.items) {
      if (isExpired(item, now)) return out;
      out.push(item);
      if (out.length === limit) return out;
    }
    if (!page.hasNextPage || pages >= MAX_PAGES) return out;
    page = await page.nextPage();
  }
}
