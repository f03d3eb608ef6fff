/**
 * The job's position in time (pure functions, unit-tested):
 * - the checkpoint `cursor` means "every completion with an event time before this instant is committed";
 * - a run reads windows [cursor, end) with `end` at most `now - lag` (events still settling are left for the next run)
 *   and never starts before `now - ttlDays` (older calls would be skipped anyway: backfill starts there);
 * - after a window, the cursor moves to the event time of the first record that is not committed, or to the window's
 *   end when all are: it never passes uncommitted work;
 * - the window length adapts: it shrinks when a window held too many events or a run could not finish it, and grows
 *   back while windows finish.
 */
const DAY_MS = 86_400_000;
export const MIN_WINDOW_MS = 5 * 60_000;

export function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
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
  const toMs = Math.min(endMs, floorToSecond(cursorMs + Math.max(windowMs, 1000)));
  if (toMs <= cursorMs) return { fromMs: cursorMs, toMs: Math.min(endMs, floorToSecond(cursorMs) + 1000) };
  return { fromMs: cursorMs, toMs };
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

/** The next window length (ms), within [MIN_WINDOW_MS, maxMs]. */
export function adaptWindow(
  currentMs: number,
  outcome: { overflow?: boolean; finished: boolean; committedSpanMs: number },
  maxMs: number,
): number {
  const clamp = (ms: number) => Math.max(MIN_WINDOW_MS, Math.min(maxMs, Math.round(ms)));
  if (outcome.overflow) return clamp(currentMs / 4);
  if (outcome.finished) return clamp(currentMs * 2);
  // Cut short: aim at about what one run can get through.
  return clamp(Math.max(outcome.committedSpanMs * 2, currentMs / 4));
}
