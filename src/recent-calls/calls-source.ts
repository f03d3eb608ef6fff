/**
 * The calls' own timing (start, end, duration) and parties, read in bulk: one Calls list (`StartTime>` /
 * `StartTime<`, 1000 per page) per window of work; a call fetched on its own only when a task names it and the list
 * did not hold it (fetchCalls).
 *
 * The spec types both filters `date-time` but describes them as dates (`YYYY-MM-DD`): whether the time of day is
 * honoured is unconfirmed, so the answer may hold the whole day(s) around the range. Calls outside [fromMs, toMs]
 * are dropped here, and the caller keeps the list's cost bounded (maxCalls, the page budget).
 */
import twilio, { type Twilio } from 'twilio';
import { API_2010_URL, isoSeconds, jsonPage } from '../twilio/json-pages';
import { hasNextPage, PageBudget, type PageLike } from './paging';

const PAGE_SIZE = 1000;

export interface CallTiming {
  startMs: number;
  endMs?: number;
  durationSeconds?: number;
}

/** A call of the list: its timing and what outbound matching compares (E.164 numbers, direction). */
export interface CallSummary extends CallTiming {
  sid: string;
  from: string;
  to: string;
  direction: string;
}

/** The parts of a Call resource this module reads (the SDK's CallInstance has them). */
export interface RawCall {
  sid: string;
  from?: string | null;
  to?: string | null;
  direction?: string | null;
  startTime?: Date | string | null;
  endTime?: Date | string | null;
  duration?: string | number | null;
}

const text = (value: unknown) => (typeof value === 'string' ? value : null);

/**
 * A Call resource as the Calls list sends it (its JSON), in RawCall's terms. Its times are RFC 2822 strings
 * (`Mon, 16 Nov 2026 01:19:09 +0000`), which Date.parse reads.
 */
export function rawCallOf(json: Record<string, unknown>): RawCall {
  return {
    sid: text(json.sid) ?? '',
    from: text(json.from),
    to: text(json.to),
    direction: text(json.direction),
    startTime: text(json.start_time),
    endTime: text(json.end_time),
    duration: typeof json.duration === 'number' ? json.duration : text(json.duration),
  };
}

function time(value: Date | string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

export function callTiming(call: RawCall): CallTiming | undefined {
  const startMs = time(call.startTime);
  if (startMs === undefined) return undefined;
  const endMs = time(call.endTime);
  const duration =
    call.duration === null || call.duration === undefined || call.duration === '' ? NaN : Number(call.duration);
  return {
    startMs,
    endMs,
    durationSeconds: Number.isFinite(duration) && duration >= 0 ? Math.round(duration) : undefined,
  };
}

export interface CallsRead {
  calls: Map<string, CallSummary>;
  /** True when the list was cut at maxCalls (records without a match fall back to event times). */
  truncated: boolean;
  /** True when the budget ran out before the list was read (as far as it had to be): read a smaller window. */
  outOfBudget: boolean;
  /** True when the answer held calls outside the range asked for (the time filter was honoured by the day only). */
  beyondRange: boolean;
  pages: number;
  /** Calls the list answered (kept or not): what counts against maxCalls. */
  seen: number;
}

export function callSummary(call: RawCall): CallSummary | undefined {
  const timing = callTiming(call);
  if (!timing) return undefined;
  return { sid: call.sid, from: call.from ?? '', to: call.to ?? '', direction: call.direction ?? '', ...timing };
}

/**
 * Calls that started in [fromMs, toMs], keyed by call SID, at most `maxCalls` read; no page is started that `budget`
 * says would end past the reads' deadline (then `outOfBudget`). With `wanted` and not `needAll`, the read stops
 * once every wanted call is found, and only those are kept; `needAll` keeps every call of the range (outbound
 * matching compares them all).
 */
export async function readCallTimings(
  client: Twilio,
  options: {
    fromMs: number;
    toMs: number;
    maxCalls: number;
    wanted?: ReadonlySet<string>;
    needAll?: boolean;
    budget?: PageBudget;
    /** Checked before each next page: true stops the read (reported out of budget; its answer is not wanted). */
    stopped?: () => boolean;
  },
): Promise<CallsRead> {
  const budget = options.budget ?? PageBudget.unlimited();
  const calls = new Map<string, CallSummary>();
  const wanted = options.needAll ? undefined : options.wanted;
  let beyondRange = false;
  if (!budget.allowsPage()) return { calls, truncated: false, outOfBudget: true, beyondRange, pages: 0, seen: 0 };
  let page: PageLike<RawCall> = await budget.page(() =>
    jsonPage(
      client,
      `${API_2010_URL}/Accounts/${client.accountSid}/Calls.json`,
      { 'StartTime>': isoSeconds(options.fromMs), 'StartTime<': isoSeconds(options.toMs), PageSize: PAGE_SIZE },
      'calls',
      rawCallOf,
    ),
  );
  let pages = 1;
  let seen = 0;
  for (;;) {
    for (const call of page.instances) {
      seen += 1;
      const summary = callSummary(call);
      if (!summary) continue;
      // Outside the range: the filter was honoured by the day only (see the header). Judged on every call answered,
      // wanted or not: the wanted ones are in range whatever the filter did.
      if (summary.startMs < options.fromMs - 1000 || summary.startMs > options.toMs + 1000) beyondRange = true;
      if (wanted && !wanted.has(call.sid)) continue;
      if (summary.startMs < options.fromMs || summary.startMs > options.toMs) continue;
      calls.set(call.sid, summary);
    }
    if (wanted && calls.size >= wanted.size) break; // found every call asked for
    if (!hasNextPage(page)) break;
    if (seen >= options.maxCalls) return { calls, truncated: true, outOfBudget: false, beyondRange, pages, seen };
    if (!budget.allowsPage() || options.stopped?.())
      return { calls, truncated: false, outOfBudget: true, beyondRange, pages, seen };
    const current = page;
    const next = await budget.page(async () => current.nextPage());
    if (!next) break;
    page = next;
    pages += 1;
    if (page.instances.length === 0) break;
  }
  return { calls, truncated: false, outOfBudget: false, beyondRange, pages, seen };
}

/** Named calls fetched one by one, at most, for one list of records: beyond it they take the task's times. */
export const MAX_CALL_FETCHES = 100;
const FETCH_CONCURRENCY = 8;

/**
 * The calls named by SID that a list did not hold (a call that started more than the list's lookback before its
 * task was created: a long IVR or queue, the second agent's task of a long call transferred; or a filter that left
 * out the day it ends in), fetched one by one, at most `max`, within `budget`: a call Twilio no longer has (404) is
 * left out, as is every one after the budget ends; any other failure is thrown, as a list page's would be.
 */
export async function fetchCalls(
  client: Twilio,
  sids: readonly string[],
  options: { max?: number; budget?: PageBudget } = {},
): Promise<{ calls: Map<string, CallSummary>; requests: number; outOfBudget: boolean }> {
  const budget = options.budget ?? PageBudget.unlimited();
  const queue = sids.slice(0, options.max ?? MAX_CALL_FETCHES);
  const calls = new Map<string, CallSummary>();
  let requests = 0;
  let outOfBudget = false;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let sid = queue.shift(); sid !== undefined && !failure; sid = queue.shift()) {
      if (!budget.allowsPage()) {
        outOfBudget = true;
        return;
      }
      requests += 1;
      const url = `${API_2010_URL}/Accounts/${client.accountSid}/Calls/${encodeURIComponent(sid)}.json`;
      try {
        const response = await budget.page(() => client.request({ method: 'get', uri: url }));
        if (response.statusCode === 404) continue;
        if (response.statusCode !== 200) throw new twilio.RestException(response);
        const body = typeof response.body === 'string' ? JSON.parse(response.body) : response.body;
        const summary = body && typeof body === 'object' ? callSummary(rawCallOf(body)) : undefined;
        if (summary && summary.sid === sid) calls.set(sid, summary);
      } catch (error) {
        failure ??= { error }; // the other workers stop after the request they are in
      }
    }
  };
  // Every worker ends before this answers: nothing of it outlives the read, whichever way it ends.
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, queue.length) }, worker));
  if (failure) throw failure.error;
  return { calls, requests, outOfBudget };
}
