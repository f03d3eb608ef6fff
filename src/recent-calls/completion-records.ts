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
 * The records of `completions` (already unique), their timing from one Calls list covering them. A list the budget
 * cut short is reported out of budget, unless `acceptPartial(list)` says to write with what was read: an outbound leg
 * is then matched to no call (a unique candidate in part of a list proves nothing).
 */
export async function readRecords(
  client: Twilio,
  completions: readonly Completion[],
  options: { maxCalls: number; budget?: PageBudget; acceptPartial: (calls: CallsRead) => boolean },
): Promise<RecordsRead> {
  if (completions.length === 0) return { kind: 'read', records: [], pages: 0, partialCalls: false };
  const calls = await readCallTimings(client, {
    fromMs: Math.min(...completions.map((c) => c.taskCreatedMs)) - CALL_LOOKBACK_MS,
    toMs: Math.max(...completions.map((c) => c.eventDateMs)),
    maxCalls: options.maxCalls,
    wanted: new Set(completions.flatMap((c) => (c.callSid ? [c.callSid] : []))),
    needAll: completions.some(needsCallMatch),
    budget: options.budget,
  });
  if (calls.outOfBudget && !options.acceptPartial(calls)) return { kind: 'out-of-budget', pages: calls.pages };
  const partialCalls = calls.outOfBudget || calls.truncated;
  return {
    kind: 'read',
    records: recordsOf(completions, calls.calls, { matchOutbound: !partialCalls }),
    pages: calls.pages,
    partialCalls,
  };
}
