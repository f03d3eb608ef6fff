/** Completions, records and write outcomes of one window, for the pure tests of what a window commits. */
import { buildCallRecord, type CallRecord } from '../../../src/recent-calls/call-record';
import type { Completion } from '../../../src/recent-calls/events-source';
import type { WriteOutcome } from '../../../src/recent-calls/writer';

export const T0 = Date.parse('2026-03-01T10:00:00Z');
export const window = { fromMs: T0, toMs: T0 + 60_000 };
export const iso = (ms: number) => new Date(ms).toISOString();

/** The i-th completion of the window; by default every other one has no call SID (an outbound task). */
export function completion(i: number, { withCallSid = i % 2 === 0 } = {}): Completion {
  const hex = i.toString(16).padStart(32, '0');
  return {
    eventSid: `EV${hex}`,
    eventDateMs: T0 + 1000 * (i + 1),
    workerSid: `WK${hex}`,
    taskSid: `WT${hex}`,
    itemKey: `key-${i}`,
    taskCreatedMs: T0,
    callSid: withCallSid ? `CA${hex}` : null,
    direction: 'inbound',
    outbound: false,
    from: '+12065550100',
    to: '+14155550100',
    queue: 'Support',
  };
}

export function windowOf(
  n: number,
  options?: { withCallSid?: boolean },
): { completions: Completion[]; records: CallRecord[] } {
  const completions = Array.from({ length: n }, (_, i) => completion(i, options));
  return { completions, records: completions.map((c) => buildCallRecord(c)) };
}

export const written: WriteOutcome = { kind: 'written' };
export const throttled: WriteOutcome = { kind: 'failed', retryable: true, code: '54009', cause: 'throttled' };
export const down: WriteOutcome = { kind: 'failed', retryable: true, code: 'HTTP_503', cause: 'unavailable' };
export const odd: WriteOutcome = { kind: 'failed', retryable: true, code: 'UNEXPECTED', cause: 'unexpected' };
export const refused: WriteOutcome = { kind: 'failed', retryable: false, code: '54006', cause: 'rejected' };
