/**
 * One invocation of the recent-calls sync: a budgeted loop over time windows of completed voice reservations.
 *
 *   take the lease (checkpoint, If-Match) ─► for each window while the budget lasts:
 *     read completions [cursor, end) and the Calls list for their timing ─► write items (concurrent, rate-limited)
 *     ─► move the cursor to the first uncommitted completion (or the window's end) and save it (If-Match)
 *   ─► release the lease with the run's counts ─► answer {done, processed, written, skipped, failed, remaining}
 *
 * The steps are SyncRun's (sync-run.ts); this module decides their order and when the run stops. Like a batch
 * processor with partial failure reporting, one record's failure never fails the run: it is counted, logged, and
 * (when retryable) keeps the cursor before it so the next run retries it; permanent failures are recorded in the
 * checkpoint for operators and passed; a record failing retryably run after run is given up (attempts.ts).
 *
 * Window length (window-size.ts): a backfill starts with a small window that grows as windows finish; a window whose
 * reads do not fit in the run's budget is treated like an overflow: the window shrinks and its length is saved,
 * without moving the cursor, so the next run takes less and makes progress instead of retrying the same reads forever.
 *
 * Every invocation logs exactly one summary line ("sync run summary"), whether it worked, found the job busy, or
 * failed (then with the error's code).
 */
import type { SyncJobConfig } from '../config/sync-job';
import type { Logger } from '../observability/logger';
import type { ProjectTwilioClient } from '../twilio/client-factory';
import type { Deadline } from '../twilio/deadline';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { READ_CONCURRENCY as RANGE_READ_CONCURRENCY } from './reconcile';
import { runBudget } from './run-budget';
import { busySummary, type JobSummary } from './run-summary';
import type { Shard } from './shard';
import { SyncRun } from './sync-run';

export type { JobSummary } from './run-summary';

/** A run reads at most this many windows (each is saved: a long run still makes progress in steps). */
const MAX_WINDOWS_PER_RUN = 100;
/** A map's writes may burst this many above its pace (the limiter's burst). */
const LIMITER_BURST = 3;

export interface JobDeps {
  /** Reads and item writes; its deadline is `deadline`. */
  work: ProjectTwilioClient;
  /** Checkpoint and service reads/saves; its deadline (the invocation's) leaves room to save after the budget. */
  control: ProjectTwilioClient;
  /** The run's work budget: a child of the invocation's deadline. No new work starts after it. */
  deadline: Deadline;
  limiter: ObjectRateLimiter;
  /** Seals the checkpoint (checkpointKey): a stored state without this key's seal is ignored. */
  checkpointKey: Buffer;
  log: Logger;
  runId: string;
  /** When the invocation started, on the deadline's clock (the summary line's elapsedMs). */
  startedAt: number;
  /** The agents this run syncs (shard.ts); default every agent (the regular run). */
  shard?: Shard;
}

/**
 * The sockets the work client's pool needs: every write in flight, plus the reads of the window read meanwhile (its
 * range reads, and its event page and Calls page, one of each at a time). Fewer, and the reads would queue behind the
 * writes.
 */
export function workSockets(config: Pick<SyncJobConfig, 'concurrency'>): number {
  return config.concurrency + RANGE_READ_CONCURRENCY + 2;
}

/** The per-map limiter settings the job uses, for callers that keep one limiter across invocations. */
export function limiterSettings(config: Pick<SyncJobConfig, 'mapWritesPerSecond'>) {
  return { ratePerSecond: config.mapWritesPerSecond, burst: LIMITER_BURST };
}

export async function runSyncJob(config: SyncJobConfig, deps: JobDeps): Promise<JobSummary> {
  const now = () => deps.deadline.now();
  const run = new SyncRun(config, deps, runBudget(deps.deadline, config.budgetMs));
  let summary: JobSummary | undefined;
  let failure: unknown;
  try {
    summary = (await run.begin()) ? await work(run, deps.log) : busySummary();
    return summary;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    const line = run.summaryLine(summary, failure, now() - deps.startedAt);
    if (failure === undefined) deps.log.info('sync run summary', line);
    else deps.log.error('sync run summary', line);
  }
}

/**
 * Windows one after the other while the budget lasts, each read while the one before it is written (at most one
 * window ahead: memory stays bounded by two windows; started once the writes look like ending within the budget),
 * each saved while the next one is written; then the lease is released with the run's summary.
 */
async function work(run: SyncRun, log: Logger): Promise<JobSummary> {
  let caughtUp = false;
  let stoppedBy: unknown;
  let ahead: ReturnType<SyncRun['startWindow']> | undefined;
  try {
    for (let w = 0; w < MAX_WINDOWS_PER_RUN; w++) {
      // A window that could not be read ahead for lack of time may still be read at the cursor (a catch-up).
      const pending = (ahead === 'no-time' ? undefined : ahead) ?? run.startWindow();
      ahead = undefined;
      if (pending === 'caught-up') {
        caughtUp = true;
        break;
      }
      if (pending === 'no-time') break;
      const read = await pending.read;
      if (read.kind === 'overflow') {
        run.overflowed(pending.window);
        continue;
      }
      if (read.kind === 'out-of-budget') {
        run.outOfBudget(pending.window, read, pending.firstOfRun);
        break;
      }
      // With records to write, the next window is read meanwhile (with none, nothing would overlap its reads), once
      // this one's writes look like ending within the budget.
      const readAhead =
        run.hasWrites(read) && w + 1 < MAX_WINDOWS_PER_RUN
          ? () => {
              ahead = run.startWindow(pending.window);
            }
          : undefined;
      const commit = await run.apply(pending, read, readAhead);
      if (!run.advance(commit)) break;
      if (commit.cursorMs !== pending.window.toMs) break; // a record is not committed: the next run starts at it
    }
    await run.saved();
  } catch (error) {
    stoppedBy = error;
    log.warn('sync run stopped early', { error, code: (error as { code?: unknown }).code });
  }
  // A window read ahead and not needed (the run stopped before it): dropped; the next run reads it again.
  if (typeof ahead === 'object') await ahead.read.catch(() => undefined);
  return run.finish(caughtUp, stoppedBy);
}
