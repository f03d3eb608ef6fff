/**
 * The job's position in time (pure functions, unit-tested):
 * - the checkpoint `cursor` means "every completion with an event time before this instant is committed";
 * - a run reads windows [cursor, end) with `end` at most `now - lag` (events still settling are left for the next run)
 *   and never starts before `now - ttlDays` (older calls would be skipped anyway: backfill starts there);
 * - after a window, the cursor moves to the event time of the first record that is not committed, or to the window's
 *   end when all are: it never passes uncommitted work;
 * - the window length adapts: the first run starts small (INITIAL_WINDOW_MS, not the whole TTL), windows grow while
 *   they finish (fast when they finish quickly), and shrink when a window held too many events, could not even be
 *   read within one run's budget, or a run could not write all of it. The length is saved in the checkpoint, so a
 *   run that ran out of time teaches the next one to take less.
 */
import { DAY_MS } from './call-record';

export const MIN_WINDOW_MS = 5 * 60_000;
/** The first window of a backfill (no length saved yet): small enough to be read and written in one run. */
export const INITIAL_WINDOW_MS = 60 * 60_000;

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

/** The window length a run starts with: the saved one (clamped: the checkpoint is not trusted blindly), else the initial. */
export function initialWindow(savedSeconds: number | null | undefined, maxMs: number): number {
  const saved =
    typeof savedSeconds === 'number' && Number.isFinite(savedSeconds) && savedSeconds > 0
      ? savedSeconds * 1000
      : INITIAL_WINDOW_MS;
  return Math.max(Math.min(MIN_WINDOW_MS, maxMs), Math.min(maxMs, Math.round(saved)));
}

export interface WindowOutcome {
  /** The window held more events than one window may, or could not be read within one run's budget. */
  overflow?: boolean;
  /** Every record of the window was attempted (the cursor may still stop at a record that failed). */
  finished: boolean;
  /** Finished using little of the run's budget: grow faster. */
  quick?: boolean;
  /** How far the cursor moved into the window (ms). */
  committedSpanMs: number;
}

/** The next window length (ms), within [MIN_WINDOW_MS, maxMs]. */
export function adaptWindow(currentMs: number, outcome: WindowOutcome, maxMs: number): number {
  const clamp = (ms: number) => Math.max(Math.min(MIN_WINDOW_MS, maxMs), Math.min(maxMs, Math.round(ms)));
  if (outcome.overflow) return clamp(currentMs / 4);
  if (outcome.finished) return clamp(currentMs * (outcome.quick ? 4 : 2));
  // Cut short by the budget: aim at about what one run can get through.
  return clamp(Math.max(outcome.committedSpanMs * 2, currentMs / 4));
}
