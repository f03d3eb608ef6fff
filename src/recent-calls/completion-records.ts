/**
 * From completed reservations to call records: one record per (agent, task), with the call's timing from one Calls
 * list. Shared by the scheduled job (a window's completions) and /taskrouter-events (a pushed delivery's), so a call
 * gets the same record whichever path writes it.
 */
import type { Twilio } from 'twilio';
import { buildCallRecord, type CallRecord } from './call-record';
import { fetchCalls, readCallTimings, type CallsRead, type CallSummary } from './calls-source';
import type { Completion } from './events-source';
import { indexOutboundCalls, matchOutboundCall, needsCallMatch } from './outbound-match';
import type { PageBudget } from './paging';

/** Calls can start this long before their task was created (IVR, queue before the task): widen the Calls list. */
export const CALL_LOOKBACK_MS = 60 * 60_000;

/** One record per (agent, task): a task completed twice for one agent (a repeated event) is written once. */
export function uniqueRecords(completions: readonly Completion[]): { first: Completion[]; duplicates: number } {
  const seen = new Set<string>();
  const first: Completion[] = [];
  for (const c of completions) {
    const key = `${c.workerSid}|${c.itemKey}`;
    if (seen.has(key)) continue;
    seen.add(key);
    first.push(c);
  }
  return { first, duplicates: completions.length - first.length };
}

/**
 * Records from completions and a Calls list: a task's own call gives the timing; an unenriched outbound task gets its
 * customer leg only when exactly one call matches (outbound-match.ts), else the task's times.
 */
export function recordsOf(
  completions: readonly Completion[],
  calls: ReadonlyMap<string, CallSummary>,
  options: { matchOutbound?: boolean } = {},
): CallRecord[] {
  const named = new Set(completions.flatMap((c) => (c.callSid ? [c.callSid] : [])));
  // A call another task names is that task's: never a candidate for a dialpad task.
  const index =
    options.matchOutbound !== false && completions.some(needsCallMatch)
      ? indexOutboundCalls([...calls.values()].filter((call) => !named.has(call.sid)))
      : undefined;
  return completions.map((c) => {
    if (c.callSid) return buildCallRecord(c, calls.get(c.callSid));
    const match = index && needsCallMatch(c) ? matchOutboundCall(c, index) : undefined;
    return buildCallRecord(c, match, match?.sid);
  });
}

export type RecordsRead =
  /** `partialCalls`: the Calls list was not read whole; records without their call took the task's times. */
  | { kind: 'read'; records: CallRecord[]; pages: number; partialCalls: boolean }
  | { kind: 'out-of-budget'; pages: number };

/**
 * A window's Calls list started beside its later event pages, before its completions were all known (window-read.ts):
 * every call of [fromMs, toMs], the window's span widened by CALL_LOOKBACK_MS. It may read more of that hour than a
 * list started after the events would (which stops once it has every call it wants), but it is not waited for.
 */
export interface CallsBeside {
  fromMs: number;
  toMs: number;
  read: Promise<CallsRead>;
}

/** Starts the Calls list of `window` beside its event pages; `stopped()` true ends it before its next page. */
export function startCallsBeside(
  client: Twilio,
  window: { fromMs: number; toMs: number },
  options: { maxCalls: number; budget?: PageBudget; stopped: () => boolean },
): CallsBeside {
  const range = { fromMs: window.fromMs - CALL_LOOKBACK_MS, toMs: window.toMs };
  const read = readCallTimings(client, { ...range, ...options, needAll: true });
  read.catch(() => undefined); // awaited by whoever uses it, or when it is dropped
  return { ...range, read };
}

/** The calls a window's completions need: from CALL_LOOKBACK_MS before the first task to the last completion. */
export function callsRange(completions: readonly Completion[]): { fromMs: number; toMs: number } {
  let fromMs = Number.POSITIVE_INFINITY;
  let toMs = Number.NEGATIVE_INFINITY;
  for (const c of completions) {
    fromMs = Math.min(fromMs, c.taskCreatedMs);
    toMs = Math.max(toMs, c.eventDateMs);
  }
  return { fromMs: fromMs - CALL_LOOKBACK_MS, toMs };
}

/** The calls of `read` that started in [fromMs, toMs]: what a list of just that range would have kept. */
function callsWithin(read: CallsRead, fromMs: number, toMs: number): Map<string, CallSummary> {
  const calls = new Map<string, CallSummary>();
  for (const [sid, call] of read.calls) if (call.startMs >= fromMs && call.startMs <= toMs) calls.set(sid, call);
  return calls;
}

/**
 * The calls `completions` need, from the list read beside the events: the part of it in their range, and a list of
 * whatever part of the range starts before it (a task created well before the window). Cut short by the budget, it
 * is what a single list cut short would be (the caller's acceptPartial decides). Undefined when it was cut at
 * maxCalls: the range is then read as if nothing had been read beside (that list may stop sooner, at its wanted calls).
 */
async function callsFromBeside(
  client: Twilio,
  beside: CallsBeside,
  range: { fromMs: number; toMs: number },
  options: { maxCalls: number; budget?: PageBudget; wanted: ReadonlySet<string>; needAll: boolean },
): Promise<CallsRead | undefined> {
  const read = await beside.read;
  if (read.truncated) return undefined;
  const calls = callsWithin(read, range.fromMs, Math.min(range.toMs, beside.toMs));
  if (read.outOfBudget || range.fromMs >= beside.fromMs) return { ...read, calls };
  const missing = new Set([...options.wanted].filter((sid) => !calls.has(sid)));
  if (!options.needAll && missing.size === 0) return { ...read, calls };
  const before = await readCallTimings(client, {
    fromMs: range.fromMs,
    toMs: beside.fromMs,
    maxCalls: Math.max(1, options.maxCalls - read.seen),
    wanted: missing,
    needAll: options.needAll,
    budget: options.budget,
  });
  for (const [sid, call] of before.calls) calls.set(sid, call);
  return {
    calls,
    truncated: before.truncated,
    outOfBudget: before.outOfBudget,
    beyondRange: read.beyondRange || before.beyondRange,
    pages: read.pages + before.pages,
    seen: read.seen + before.seen,
  };
}

/**
 * The records of `completions` (already unique), their timing from one Calls list covering them (or the one read
 * beside the events, `beside`, with the part before it). A list the budget cut short is reported out of budget, unless
 * `acceptPartial(list)` says to write with what was read: an outbound leg is then matched to no call (a unique
 * candidate in part of a list proves nothing).
 */
export async function readRecords(
  client: Twilio,
  completions: readonly Completion[],
  options: {
    maxCalls: number;
    budget?: PageBudget;
    acceptPartial: (calls: CallsRead) => boolean;
    beside?: CallsBeside;
  },
): Promise<RecordsRead> {
  const beside = async () => options.beside?.read.catch(() => undefined);
  if (completions.length === 0)
    return { kind: 'read', records: [], pages: (await beside())?.pages ?? 0, partialCalls: false };
  const range = callsRange(completions);
  const wanted = new Set(completions.flatMap((c) => (c.callSid ? [c.callSid] : [])));
  const needAll = completions.some(needsCallMatch);
  let calls = options.beside
    ? await callsFromBeside(client, options.beside, range, { ...options, wanted, needAll })
    : undefined;
  if (!calls) {
    const read = await readCallTimings(client, {
      ...range,
      maxCalls: options.maxCalls,
      wanted,
      needAll,
      budget: options.budget,
    });
    const besideRead = await beside();
    calls = {
      ...read,
      pages: read.pages + (besideRead?.pages ?? 0),
      beyondRange: read.beyondRange || besideRead?.beyondRange === true,
    };
  }
  // A call a task names that the list did not hold (it started before the list's range, or the filter left its day
  // out): fetched by its SID, so that its item takes the call's own times.
  const listed = calls.calls;
  const missing = calls.outOfBudget ? [] : [...wanted].filter((sid) => !listed.has(sid));
  if (missing.length > 0) {
    const fetched = await fetchCalls(client, missing, { budget: options.budget });
    for (const [sid, call] of fetched.calls) listed.set(sid, call);
    calls = { ...calls, pages: calls.pages + fetched.requests, outOfBudget: fetched.outOfBudget };
  }
  if (calls.outOfBudget && !options.acceptPartial(calls)) return { kind: 'out-of-budget', pages: calls.pages };
  const partialCalls = calls.outOfBudget || calls.truncated;
  return {
    kind: 'read',
    records: recordsOf(completions, calls.calls, { matchOutbound: !partialCalls }),
    pages: calls.pages,
    partialCalls,
  };
}
