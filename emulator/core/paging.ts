/**
 * Twilio's two paging envelopes: the `meta` block of Sync and TaskRouter lists (absolute URLs that point back at the
 * emulator) and API 2010's top-level `*_page_uri` fields (paths, which the SDK prefixes with its own host).
 * Page tokens are opaque to clients; here they carry the offset of the page's first element.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { badRequest } from './errors';
import type { EmuRequest } from './router';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

interface PageWindow {
  pageSize: number;
  page: number;
  offset: number;
}

function readWindow(req: EmuRequest): PageWindow {
  const rawSize = req.query.get('PageSize');
  const pageSize = rawSize === null ? DEFAULT_PAGE_SIZE : Number(rawSize);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw badRequest(`Invalid PageSize: ${rawSize}`);
  const size = Math.min(pageSize, MAX_PAGE_SIZE);
  const page = Number(req.query.get('Page') ?? 0);
  if (!Number.isInteger(page) || page < 0) throw badRequest('Invalid Page');
  const token = req.query.get('PageToken');
  // "Page: the page index. This value is simply for client state" (every list in the specs): without a PageToken the
  // list starts at its first item whatever Page says; only the token moves it.
  if (token === null) return { pageSize: size, page, offset: 0 };
  const match = /^PT(\d+)$/.exec(token);
  if (!match) throw badRequest(`Invalid PageToken: ${token}`);
  return { pageSize: size, page, offset: Number(match[1]) };
}

/** Query string that repeats the list's filters and adds the paging parameters. */
function pageQuery(filters: Record<string, string | undefined>, extra: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v !== undefined) params.set(k, v);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

function slice<T>(req: EmuRequest, all: readonly T[]) {
  const w = readWindow(req);
  const items = all.slice(w.offset, w.offset + w.pageSize);
  const hasNext = w.offset + w.pageSize < all.length;
  const hasPrevious = w.offset > 0;
  const nextQuery = { PageSize: String(w.pageSize), Page: String(w.page + 1), PageToken: `PT${w.offset + w.pageSize}` };
  const prevOffset = Math.max(0, w.offset - w.pageSize);
  const prevQuery = {
    PageSize: String(w.pageSize),
    Page: String(Math.max(0, w.page - 1)),
    PageToken: `PT${prevOffset}`,
  };
  return { w, items, hasNext, hasPrevious, nextQuery, prevQuery };
}

type Filters = Record<string, string | undefined>;
type Slice = ReturnType<typeof slice>;

/** Items rendered between two yields. */
const RENDER_PER_TURN = 100;

/**
 * The items rendered a hundred at a time, yielding to the event loop in between: rendering a 1,000-item page of
 * events or calls at once held every other answer of the emulator up for over 10 ms, where Twilio serves the
 * requests beside a big page in parallel.
 */
async function renderInTurns<T, R>(items: readonly T[], render: (item: T) => R): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += RENDER_PER_TURN) {
    if (i > 0) await yieldToEventLoop();
    for (let j = i; j < Math.min(items.length, i + RENDER_PER_TURN); j++) out.push(render(items[j]));
  }
  return out;
}

/**
 * A kind of list page, from its body's shape: `now` renders the page's items at once, `inTurns` a hundred at a time
 * between turns of the event loop (for the big pages: Events, Calls).
 */
function pageOf<B>(body: (req: EmuRequest, key: string, page: Slice, rendered: unknown[], filters: Filters) => B) {
  return {
    now<T, R>(req: EmuRequest, key: string, all: readonly T[], render: (item: T) => R, filters: Filters = {}): B {
      const page = slice(req, all);
      return body(req, key, page, page.items.map(render), filters);
    },
    async inTurns<T, R>(
      req: EmuRequest,
      key: string,
      all: readonly T[],
      render: (item: T) => R,
      filters: Filters = {},
    ): Promise<B> {
      const page = slice(req, all);
      return body(req, key, page, await renderInTurns(page.items, render), filters);
    },
  };
}

/** A Sync / TaskRouter list page: `{ [key]: items, meta: {...} }`. */
const metaPages = pageOf((req, key, page, rendered, filters) => {
  const { w, hasNext, hasPrevious, nextQuery, prevQuery } = page;
  const base = req.baseUrl + req.path;
  return {
    [key]: rendered,
    meta: {
      first_page_url: `${base}?${pageQuery(filters, { PageSize: String(w.pageSize), Page: '0' })}`,
      key,
      next_page_url: hasNext ? `${base}?${pageQuery(filters, nextQuery)}` : null,
      page: w.page,
      page_size: w.pageSize,
      previous_page_url: hasPrevious ? `${base}?${pageQuery(filters, prevQuery)}` : null,
      url: `${base}?${pageQuery(filters, { PageSize: String(w.pageSize), Page: String(w.page) })}`,
    },
  };
});
export const metaPage = metaPages.now;
export const metaPageInTurns = metaPages.inTurns;

/** An API 2010 list page: `{ [key]: items, start, end, page, page_size, uri, first_page_uri, next_page_uri, ... }`. */
const uriPages = pageOf((req, key, page, rendered, filters) => {
  const { w, hasNext, hasPrevious, nextQuery, prevQuery } = page;
  return {
    [key]: rendered,
    start: w.offset,
    end: w.offset + Math.max(rendered.length, 1) - 1,
    page: w.page,
    page_size: w.pageSize,
    uri: `${req.path}?${pageQuery(filters, { PageSize: String(w.pageSize), Page: String(w.page) })}`,
    first_page_uri: `${req.path}?${pageQuery(filters, { PageSize: String(w.pageSize), Page: '0' })}`,
    next_page_uri: hasNext ? `${req.path}?${pageQuery(filters, nextQuery)}` : null,
    previous_page_uri: hasPrevious ? `${req.path}?${pageQuery(filters, prevQuery)}` : null,
  };
});
export const uriPage = uriPages.now;
export const uriPageInTurns = uriPages.inTurns;
