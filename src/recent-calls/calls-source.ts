/**
 * The calls' own timing (start, end, duration), read in bulk: one Calls list (`StartTime>` / `StartTime<`, 1000 per
 * page) per window of work, never one fetch per call.
 */
import type { Twilio } from 'twilio';
import type { CallInstance } from 'twilio/lib/rest/api/v2010/account/call';
import { hasNextPage, PageBudget, type PageLike } from './paging';

const PAGE_SIZE = 1000;

export interface CallTiming {
  startMs: number;
  endMs?: number;
  durationSeconds?: number;
}

/** The parts of a Call resource this module reads (the SDK's CallInstance has them). */
export interface RawCall {
  sid: string;
  startTime?: Date | string | null;
  endTime?: Date | string | null;
  duration?: string | number | null;
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
  const duration = call.duration === null || call.duration === undefined || call.duration === '' ? NaN : Number(call.duration);
  return {
    startMs,
    endMs,
    durationSeconds: Number.isFinite(duration) && duration >= 0 ? Math.round(duration) : undefined,
  };
}

export interface CallsRead {
  calls: Map<string, CallTiming>;
  /** True when the list was cut at maxCalls (records without a match fall back to event times). */
  truncated: boolean;
  /** True when the budget ran out before the list was read (as far as it had to be): read a smaller window. */
  outOfBudget: boolean;
  pages: number;
}

/**
 * Calls that started in [fromMs, toMs], keyed by call SID, at most `maxCalls`; no page is started that `budget`
 * says would end past the reads' deadline (then `outOfBudget`).
 */
export async function readCallTimings(
  client: Twilio,
  options: { fromMs: number; toMs: number; maxCalls: number; wanted?: ReadonlySet<string>; budget?: PageBudget },
): Promise<CallsRead> {
  const budget = options.budget ?? PageBudget.unlimited();
  const calls = new Map<string, CallTiming>();
  if (!budget.allowsPage()) return { calls, truncated: false, outOfBudget: true, pages: 0 };
  let page: PageLike<CallInstance> = await budget.page(() =>
    client.api.v2010.accounts(client.accountSid).calls.page({
      startTimeAfter: new Date(options.fromMs),
      startTimeBefore: new Date(options.toMs),
      pageSize: PAGE_SIZE,
    }),
  );
  let pages = 1;
  let seen = 0;
  for (;;) {
    for (const call of page.instances) {
      seen += 1;
      if (options.wanted && !options.wanted.has(call.sid)) continue;
      const timing = callTiming(call);
      if (timing) calls.set(call.sid, timing);
    }
    if (options.wanted && calls.size >= options.wanted.size) break; // found every call asked for
    if (!hasNextPage(page)) break;
    if (seen >= options.maxCalls) return { calls, truncated: true, outOfBudget: false, pages };
    if (!budget.allowsPage()) return { calls, truncated: false, outOfBudget: true, pages };
    const current = page;
    const next = await budget.page(async () => current.nextPage());
    if (!next) break;
    page = next;
    pages += 1;
    if (page.instances.length === 0) break;
  }
  return { calls, truncated: false, outOfBudget: false, pages };
}
