/**
 * Ties an unenriched outbound (Flex dialpad) task to its customer leg in the Calls list the run already reads: how
 * Twilio ties them server-side is not documented, so the match is deliberately strict and decided once, at the
 * first write (an item is never updated later):
 *   an outbound call (`outbound-api` / `outbound-dial`) to the dialled number (E.164), from the task's caller ID,
 *   starting within the task's life (from its creation to its completion), and exactly one such call.
 * Anything else (no candidate, or two calls to the same number in the task's life) is no match: the item is written
 * with `callSid: null` and the task's times.
 */
import type { CallSummary } from './calls-source';
import type { Completion } from './events-source';
import { toE164 } from './phone-number';

/** Whether this completion needs a match: an outbound task that names no call. */
export function needsCallMatch(c: Completion): boolean {
  return c.outbound && c.callSid === null;
}

export interface OutboundIndex {
  /** Outbound calls by `<to>|<from>` (E.164). */
  byParties: Map<string, CallSummary[]>;
}

export function indexOutboundCalls(calls: Iterable<CallSummary>): OutboundIndex {
  const byParties = new Map<string, CallSummary[]>();
  for (const call of calls) {
    if (!call.direction.startsWith('outbound')) continue;
    const key = `${call.to}|${call.from}`;
    const list = byParties.get(key);
    if (list) list.push(call);
    else byParties.set(key, [call]);
  }
  return { byParties };
}

/** The one customer leg of `c`, or undefined. */
export function matchOutboundCall(c: Completion, index: OutboundIndex): CallSummary | undefined {
  const to = toE164(c.to);
  const from = toE164(c.from);
  if (!to || !from) return undefined;
  const candidates = (index.byParties.get(`${to}|${from}`) ?? []).filter(
    (call) => call.startMs >= c.taskCreatedMs && call.startMs <= c.eventDateMs,
  );
  return candidates.length === 1 ? candidates[0] : undefined;
}
