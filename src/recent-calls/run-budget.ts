/**
 * How a run spends its work budget (a child of the invocation's deadline): no write starts in the last
 * STOP_MARGIN_MS (it would not finish, and the answer needs the time), and reads (event and call pages) end
 * WRITE_RESERVE_MS before that (at most a quarter of the budget), leaving time to write what they found. The last
 * checkpoint save is not in it: it uses what the invocation's deadline has left.
 */
import type { Deadline } from '../twilio/deadline';

/** No write starts in the last few ms of the budget (it would not finish). */
export const STOP_MARGIN_MS = 300;
/** Reads end this long before the writes' stop (capped at a quarter of the budget), leaving time to write. */
export const WRITE_RESERVE_MS = 700;

export interface RunBudget {
  /** The run's work budget as given. */
  work: Deadline;
  /** No request of the run's work (writes, range reads) starts after it. */
  writes: Deadline;
  /** No read (event, call page) may end after it; no window is started after it. */
  reads: Deadline;
}

/** The budget of a run whose work budget is `work`, `budgetMs` long in all. */
export function runBudget(work: Deadline, budgetMs: number): RunBudget {
  const writes = work.shortenedBy(STOP_MARGIN_MS);
  return { work, writes, reads: writes.shortenedBy(Math.min(WRITE_RESERVE_MS, budgetMs / 4)) };
}

/**
 * Whether a window's writes will likely end before the writes' deadline, at the pace so far: `ended` of `total` after
 * `elapsedMs`, with `remainingMs` left. A window of at most `sample` records (one round of writes in flight) is taken
 * to finish; a larger one is judged once `sample` of its writes have ended. The job reads the next window only then,
 * so that a window the budget will cut does not cost the reads of one the run will not reach.
 */
export function writesLikelyToFinish(p: {
  ended: number;
  total: number;
  elapsedMs: number;
  remainingMs: number;
  sample: number;
}): boolean {
  if (p.total <= p.sample || p.ended >= p.total) return true;
  if (p.ended < p.sample) return false;
  return ((p.total - p.ended) * p.elapsedMs) / p.ended < p.remainingMs;
}
