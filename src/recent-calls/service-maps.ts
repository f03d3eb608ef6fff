/**
 * Which maps the Sync service holds, when that takes only a few pages: read once per run, beside the lease. A map
 * the list does not name held no item when it was read, so a window's records for it need no range read
 * (reconcile.ts): on a first backfill, where no agent has a map yet, that is one request per agent saved and the
 * window's writes start sooner. An item written into such a map since (a pushed call) is found by its create,
 * answered 409 / 54208, exactly as without the list; a map created since is answered 54301.
 *
 * A service with more maps than the pages read (a center with many agents, once their maps exist) is not listed:
 * the range reads find what they find, as without the list.
 */
import type { Twilio } from 'twilio';
import type { SyncMapInstance } from 'twilio/lib/rest/sync/v1/service/syncMap';
import { hasNextPage, type PageLike } from './paging';

/** Sync's largest list page. */
const PAGE_SIZE = 100;
/** The service's maps are listed only when they fit in this many pages. */
export const MAX_MAP_LIST_PAGES = 2;

/** The unique names of every map of the service, or undefined when they do not fit in `maxPages` pages. */
export async function listServiceMaps(
  client: Twilio,
  serviceSid: string,
  maxPages = MAX_MAP_LIST_PAGES,
): Promise<ReadonlySet<string> | undefined> {
  const names = new Set<string>();
  let page: PageLike<SyncMapInstance> = await client.sync.v1
    .services(serviceSid)
    .syncMaps.page({ pageSize: PAGE_SIZE });
  for (let pages = 1; ; pages++) {
    for (const map of page.instances) names.add(map.uniqueName);
    if (!hasNextPage(page)) return names;
    // An empty page that names a next one, or more pages than allowed: not known to be the whole list.
    if (page.instances.length === 0 || pages >= maxPages) return undefined;
    const next = await page.nextPage();
    if (!next) return undefined;
    page = next;
  }
}
