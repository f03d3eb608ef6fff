/**
 * How long the job's next window is (pure functions). A backfill starts small (INITIAL_WINDOW_MS, not the whole
 * TTL); windows grow while they finish (fast when they finish quickly, fastest when they held no event at all:
 * a center whose first calls are days inside the TTL reads its empty days in a few round trips, not one per
 * quadrupling), and shrink when a window held too many events,
 * could not even be read within one run's budget, or a run could not write all of it. The length is saved in the
 * checkpoint, so a run that ran out of time teaches the next one to take less.
 */
import type { TimeWindow } from './cursor';
import type { WriteOutcome } from './writer';

/** No window is shorter (unless the TTL is). */
export const MIN_WINDOW_MS = 5 * 60_000;
/** The first window of a backfill (no length saved yet): small enough to be read and written in one run. */
export const INITIAL_WINDOW_MS = 60 * 60_000;
/** A window whose records were all attempted within this share of the budget grows faster. */
export const QUICK_SHARE_OF_BUDGET = 1 / 4;
/** How much a window grows after one that finished (quickly; without any event; otherwise). */
const GROWTH = { quick: 4, empty: 16, finished: 2 } as const;

function clampWindow(ms: number, maxMs: number): number {
  return Math.max(Math.min(MIN_WINDOW_MS, maxMs), Math.min(maxMs, Math.round(ms)));
}

/** The window length a run starts with: the saved one (clamped: the checkpoint is not trusted blindly), else the initial. */
export function initialWindow(savedSeconds: number | null | undefined, maxMs: number): number {
  const saved =
    typeof savedSeconds === 'number' && Number.isFinite(savedSeconds) && savedSeconds > 0
      ? savedSeconds * 1000
      : INITIAL_WINDOW_MS;
  return clampWindow(saved, maxMs);
}

export interface WindowOutcome {
  /** The window held more events than one window may, or could not be read within one run's budget. */
  overflow?: boolean;
  /** Every record of the window was attempted (the cursor may still stop at a record that failed). */
  finished: boolean;
  /** Finished using little of the run's budget: grow faster. */
  quick?: boolean;
  /** Finished holding no event at all (for any agent): calls are sparse there, grow fastest. */
  empty?: boolean;
  /** How far the cursor moved into the window (ms). */
  committedSpanMs: number;
}

/** The next window length (ms), within [MIN_WINDOW_MS, maxMs]. */
export function adaptWindow(currentMs: number, outcome: WindowOutcome, maxMs: number): number {
  if (outcome.overflow) return clampWindow(currentMs / 4, maxMs);
  if (outcome.finished) {
    const growth = outcome.empty ? GROWTH.empty : outcome.quick ? GROWTH.quick : GROWTH.finished;
    return clampWindow(currentMs * growth, maxMs);
  }
  // Cut short by the budget: aim at about what one run can get through.
  return clampWindow(Math.max(outcome.committedSpanMs * 2, currentMs / 4), maxMs);
}

/** The length after `window` (read with `windowMs`) held too many events, or did not fit the budget's reads. */
export function windowAfterOverflow(windowMs: number, window: TimeWindow, maxMs: number): number {
  const spanMs = window.toMs - window.fromMs;
  // Stryker disable next-line BooleanLiteral: equivalent, an overflow with nothing committed shrinks to a quarter either way
  return adaptWindow(Math.min(windowMs, spanMs), { overflow: true, finished: false, committedSpanMs: 0 }, maxMs);
}

/**
 * The length after `window`'s records were written with these outcomes. Cut by the budget with some of the window
 * written: it held more than a run can write, so it shrinks. With nothing of it attempted, the cut says nothing about
 * its length (the run, or its maps' rate slots, had no time left): it is kept. Every record attempted (some may have
 * failed): it grows, faster when that took less than QUICK_SHARE_OF_BUDGET of the budget, fastest when the window
 * held no event at all.
 */
export function windowAfterWrite(input: {
  windowMs: number;
  window: TimeWindow;
  outcomes: readonly WriteOutcome[];
  /** The cursor after the window (cursor.ts commitCursor). */
  cursorMs: number;
  /** The window held no event at all, for any agent (a shard's window without records of its own may hold some). */
  empty?: boolean;
  /** From the window's start (its reads) to the end of its writes. */
  elapsedMs: number;
  budgetMs: number;
  maxMs: number;
}): number {
  const { windowMs, window, outcomes } = input;
  const noneAttempted = outcomes.length > 0 && outcomes.every((o) => o.kind === 'not-attempted' && !o.itemWritten);
  if (noneAttempted) return windowMs;
  const finished = outcomes.every((o) => o.kind !== 'not-attempted');
  return adaptWindow(
    Math.min(windowMs, window.toMs - window.fromMs),
    {
      finished,
      quick: finished && input.elapsedMs < input.budgetMs * QUICK_SHARE_OF_BUDGET,
      empty: finished && input.empty === true,
      committedSpanMs: input.cursorMs - window.fromMs,
    },
    input.maxMs,
  );
}

/**
 * The length of the window read while `window` (read with `windowMs`) is being written: as if `window` finishes, but
 * not quickly (that is not known yet). Should `window` not finish, the window read ahead is not used.
 */
export function windowAhead(windowMs: number, window: TimeWindow, maxMs: number): number {
  const spanMs = window.toMs - window.fromMs;
  return adaptWindow(Math.min(windowMs, spanMs), { finished: true, committedSpanMs: spanMs }, maxMs);
}
