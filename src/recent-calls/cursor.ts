/**
 * The job's position in time (pure functions):
 * - the checkpoint `cursor` means "every completion with an event time before this instant is committed";
 * - a run reads windows [cursor, end) with `end` at most `now - lag` (events still settling are left for the next run)
 *   and never starts before `now - ttlDays` (older calls would be skipped anyway: backfill starts there);
 * - after a window, the cursor moves to the event time of the first record that is not committed, or to the window's
 *   end when all are: it never passes uncommitted work;
 * - a stored cursor ahead of Twilio's clock was not written by a run: it is not trusted.
 * How long a window is: window-size.ts.
 */
import { DAY_MS } from './call-record';

/** A cursor may be this far ahead of this run's estimate of Twilio's clock (estimates differ by ~1 s + latency). */
export const CURSOR_SLACK_MS = 5000;

export function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/**
 * The stored cursor, unless it is ahead of Twilio's clock: no run ever saves a cursor past `now - lag`, so such a
 * cursor was written by someone else, and trusting it would silently skip every call before it. It is then ignored
 * (the run starts over from the oldest call inside the TTL: writes are idempotent, nothing is lost).
 */
export function trustedCursor(
  storedCursor: string | null,
  serverNowMs: number,
): { cursorMs: number | undefined; ignored?: string } {
  const ms = Date.parse(storedCursor ?? '');
  // Stryker disable next-line ObjectLiteral: equivalent, {} has no cursorMs either
  if (Number.isNaN(ms)) return { cursorMs: undefined };
  if (ms > serverNowMs + CURSOR_SLACK_MS) return { cursorMs: undefined, ignored: storedCursor ?? undefined };
  return { cursorMs: ms };
}

/** Where a run starts: the checkpoint's cursor, but never before the oldest call that can still be inside the TTL. */
export function startCursor(cursorMs: number | undefined, nowMs: number, ttlDays: number): number {
  const oldest = floorToSecond(nowMs - ttlDays * DAY_MS);
  return cursorMs === undefined || !Number.isFinite(cursorMs) ? oldest : Math.max(cursorMs, oldest);
}

/** The newest instant whose events are taken as settled (whole seconds). */
export function safeEnd(nowMs: number, lagSeconds: number): number {
  return floorToSecond(nowMs - lagSeconds * 1000);
}

export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

/** The next window to read, or undefined when the cursor has caught up with `endMs`. `toMs` is whole seconds. */
export function nextWindow(cursorMs: number, endMs: number, windowMs: number): TimeWindow | undefined {
  if (cursorMs >= endMs) return undefined;
  // At least a second on, floored: always after the cursor, and before or at endMs.
  return { fromMs: cursorMs, toMs: Math.min(endMs, floorToSecond(cursorMs + Math.max(windowMs, 1000))) };
}

/**
 * The new cursor after a window: the event time of the first record (in commit order) that is not committed, or the
 * window's end when every record is. `records` must be sorted by event time.
 */
export function commitCursor<T extends { eventDateMs: number }>(
  records: readonly T[],
  isCommitted: (record: T) => boolean,
  window: TimeWindow,
): number {
  for (const record of records) if (!isCommitted(record)) return Math.max(window.fromMs, record.eventDateMs);
  return window.toMs;
}
