/**
 * Twilio list pages read through the SDK's request path (`client.request`: credentials, user agent, edge and region
 * hostnames, this project's HTTP layer with its retries and timeouts) whose items stay the JSON objects Twilio sent.
 *
 * Why not the SDK's `list.page()`: it builds a resource instance per item and parses every date field of it with
 * dayjs. On a 1,000-item Events or Calls page (2–3 MB) that costs more CPU and memory than everything the readers do
 * with the few fields they take, and the job reads such pages beside its writes, on the same thread.
 *
 * Errors are the SDK's: an answer other than 200 throws its RestException, as its own Page does. The resource URLs
 * are the public ones the SDK also uses (they do not change; `client.request` moves them to an edge or region when the
 * client is configured for one), so that no SDK resource module has to be loaded to build them.
 */
import twilio, { type Twilio } from 'twilio';

export const TASKROUTER_V1_URL = 'https://taskrouter.twilio.com/v1';
export const API_2010_URL = 'https://api.twilio.com/2010-04-01';

export interface JsonPage<T> {
  instances: T[];
  /** The next page's absolute URL; undefined on the last page. */
  nextPageUrl?: string;
  /** Requests the next page at once; undefined on the last page. */
  nextPage(): Promise<JsonPage<T>> | undefined;
}

type ListParams = Record<string, string | number | undefined>;

/** Epoch ms → the SDK's ISO 8601 form for list filters: whole seconds, UTC (`2026-03-01T10:00:00Z`). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The page at `url` (`params` as its query), its items under `itemsKey` turned into T by `item`. The next page's URL
 * is the page's own: `meta.next_page_url` (absolute; the newer APIs) or `next_page_uri` (relative to the host; API
 * 2010), as the SDK's Page reads them.
 */
export async function jsonPage<T>(
  client: Twilio,
  url: string,
  params: ListParams | undefined,
  itemsKey: string,
  item: (json: Record<string, unknown>) => T,
): Promise<JsonPage<T>> {
  const response = await client.request({ method: 'get', uri: url, params });
  if (response.statusCode !== 200) throw new twilio.RestException(response);
  const payload = (typeof response.body === 'string' ? JSON.parse(response.body) : response.body) as Record<
    string,
    unknown
  > | null;
  const items = payload?.[itemsKey];
  if (!Array.isArray(items)) throw new Error(`Twilio list page without its "${itemsKey}" array: ${url}`);
  const nextPageUrl = nextUrl(payload!, url);
  return {
    instances: items.map((json) => item(json && typeof json === 'object' ? json : {})),
    nextPageUrl,
    nextPage: () => (nextPageUrl ? jsonPage(client, nextPageUrl, undefined, itemsKey, item) : undefined),
  };
}

function nextUrl(payload: Record<string, unknown>, pageUrl: string): string | undefined {
  const meta = payload.meta as { next_page_url?: unknown } | undefined;
  if (typeof meta?.next_page_url === 'string' && meta.next_page_url !== '') return meta.next_page_url;
  const uri = payload.next_page_uri;
  // Relative to the host, as the SDK's Domain.absoluteUrl reads it (with or without its leading slash).
  if (typeof uri === 'string' && uri !== '') return new URL(`/${uri.replace(/^\/+/, '')}`, pageUrl).href;
  return undefined;
}
