/**
 * From completed reservations to call records: one record per (agent, task), with the call's timing from one Calls
 * list. Shared by the scheduled job (a window's completions) and /taskrouter-events (a pushed delivery's), so a call
 * gets the same record whichever path writes it.
 */
import type { Twilio } from 'twilio';
import { buildCallRecord, type CallRecord } from './call-record';
import { readCallTimings, type CallsRead, type CallSummary } from './calls-source';
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
 * A Calls list started before a window's completions were all known (window-read.ts): every call of
 * [fromMs, toMs], the window's span widened by CALL_LOOKBACK_MS, read beside the window's event pages.
 */
export interface CallsReadAhead {
  fromMs: number;
  toMs: number;
  read: Promise<CallsRead>;
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
 * The calls `completions` need, from the list read ahead when it was read whole: the part of it in their range, and
 * a list of whatever part of the range starts before it (a task created before the window). Undefined when the list
 * read ahead was cut short (by the budget or its size): the range is then read as if nothing had been read ahead.
 */
async function callsFromAhead(
  client: Twilio,
  ahead: CallsReadAhead,
  range: { fromMs: number; toMs: number },
  options: { maxCalls: number; budget?: PageBudget; wanted: ReadonlySet<string>; needAll: boolean },
): Promise<CallsRead | undefined> {
  const read = await ahead.read;
  if (read.outOfBudget || read.truncated) return undefined;
  const calls = callsWithin(read, range.fromMs, Math.min(range.toMs, ahead.toMs));
  if (range.fromMs >= ahead.fromMs) return { ...read, calls };
  const before = await readCallTimings(client, {
    fromMs: range.fromMs,
    toMs: ahead.fromMs,
    maxCalls: options.maxCalls,
    wanted: new Set([...options.wanted].filter((sid) => !calls.has(sid))),
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
  };
}

/**
 * The records of `completions` (already unique), their timing from one Calls list covering them (or the one read
 * ahead, `ahead`, when it covers them). A list the budget cut short is reported out of budget, unless
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
    ahead?: CallsReadAhead;
  },
): Promise<RecordsRead> {
  const aheadPages = async () => (options.ahead ? ((await options.ahead.read.catch(() => undefined))?.pages ?? 0) : 0);
  if (completions.length === 0) return { kind: 'read', records: [], pages: await aheadPages(), partialCalls: false };
  const range = callsRange(completions);
  const wanted = new Set(completions.flatMap((c) => (c.callSid ? [c.callSid] : [])));
  const needAll = completions.some(needsCallMatch);
  const fromAhead = options.ahead
    ? await callsFromAhead(client, options.ahead, range, { ...options, wanted, needAll })
    : undefined;
  let calls = fromAhead;
  if (!calls) {
    const read = await readCallTimings(client, {
      ...range,
      maxCalls: options.maxCalls,
      wanted,
      needAll,
      budget: options.budget,
    });
    calls = { ...read, pages: read.pages + (await aheadPages()) };
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
