/**
 * One invocation of the recent-calls sync: a budgeted loop over time windows of completed voice reservations.
 *
 *   take the lease (checkpoint, If-Match) ─► for each window while the budget lasts:
 *     read completions [cursor, end) ─► one Calls list for their timing ─► write items (concurrent, rate-limited)
 *     ─► move the cursor to the first uncommitted completion (or the window's end) and save it (If-Match)
 *   ─► release the lease with the run's counts ─► answer {done, processed, written, skipped, failed, remaining}
 *
 * Like a batch processor with partial failure reporting, one record's failure never fails the run: it is counted,
 * logged, and (when retryable) keeps the cursor before it so the next run retries it; permanent failures are
 * recorded in the checkpoint for operators and passed. A record that fails retryably run after run is given up
 * (recorded like a permanent failure) after a few runs, so no record can hold the cursor forever.
 *
 * Window length (window.ts): a backfill starts with a small window that grows as windows finish; a window whose
 * reads do not fit in the run's budget (no page is started that would end past it, and a read that times out at the
 * deadline counts the same) is treated like an overflow: the window shrinks and its length is saved, without
 * moving the cursor, so the next run takes less and makes progress instead of retrying the same reads forever.
 *
 * Every invocation logs exactly one summary line ("sync run summary"), whether it worked, found the job busy, or
 * failed (then with the error's code).
 */
import type { Logger } from '../observability/logger';
import type { ProjectTwilioClient } from '../twilio/client-factory';
import type { Deadline } from '../twilio/deadline';
import { isUpstreamFailure } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { DAY_MS, type CallRecord } from './call-record';
import {
  acquireLease,
  boundAttempts,
  CheckpointStore,
  MAX_FAILURES,
  recordAttempt,
  trustedCursor,
  type Checkpoint,
  type CheckpointFailure,
  type CheckpointState,
  type RecordAttempts,
} from './checkpoint';
import { MAX_BUDGET_MS, type SyncJobConfig } from '../config/sync-job';
import { readRecords, uniqueRecords } from './completion-records';
import { readCompletions, type Completion } from './events-source';
import { Reconciler } from './reconcile';
import { PageBudget } from './paging';
import { readWorkerIdentities } from './workers-source';
import {
  adaptWindow,
  commitCursor,
  initialWindow,
  MIN_WINDOW_MS,
  nextWindow,
  safeEnd,
  startCursor,
  type TimeWindow,
} from './window';
import { isCommitted, RecentCallsWriter, type WriteOutcome } from './writer';

/** No write starts in the last few ms of the budget (it would not finish; the checkpoint save needs the time). */
const STOP_MARGIN_MS = 300;
/** Reads end this long before the budget's stop (capped at a quarter of the budget), leaving time to write. */
const WINDOW_MIN_MS = 700;
const LEASE_MARGIN_MS = 4000;
const MAX_EVENTS_PER_WINDOW = 10_000;
const MAX_CALLS_PER_WINDOW = 20_000;
const MAX_WORKERS = 10_000;
const MAX_WINDOWS_PER_RUN = 100;
const PER_MAP_CONCURRENCY = 4;
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
  /** performance.now() when the invocation started. */
  startedAt: number;
  now?: () => number;
}

export interface JobSummary {
  done: boolean;
  processed: number;
  written: number;
  skipped: number;
  failed: number;
  /**
   * Completions known to be still waiting: read but not committed (failed retryably or not attempted), plus the
   * events of a window the run could not finish reading. A lower bound unless `remainingExact`: a run stopped by its
   * budget has not read what lies after its last window, so `remaining: 0` with `done: false` means "unknown".
   */
  remaining: number;
  /** True only when the run read every settled event (then `remaining` is the full count; with `done`, 0). */
  remainingExact: boolean;
  /** Another run holds the lease: nothing was done, call again shortly. */
  busy?: boolean;
  /** The checkpoint: every completion before this instant is synced. */
  syncedThrough: string | null;
  /** Present when a stored checkpoint failed its seal check (not written by this job): it was ignored. */
  checkpointIgnored?: 'unsealed' | 'tampered';
}

interface Counts {
  written: number;
  exists: number;
  old: number;
  duplicate: number;
  ignored: number;
  failedRetryable: number;
  failedPermanent: number;
  givenUp: number;
  notAttempted: number;
}

/** The per-map limiter settings the job uses, for callers that keep one limiter across invocations. */
export function limiterSettings(config: Pick<SyncJobConfig, 'mapWritesPerSecond'>) {
  return { ratePerSecond: config.mapWritesPerSecond, burst: LIMITER_BURST };
}

// Shared with /taskrouter-events (completion-records.ts); re-exported for the job's users.
export { recordsOf } from './completion-records';

/** What reading one window gave: its records, or why it could not be read whole. */
type WindowReadResult =
  | { kind: 'read'; completions: Completion[]; records: CallRecord[] }
  | { kind: 'overflow' }
  /** Out of budget (or a read timed out at the deadline) after `pages` pages; `known`: completions seen meanwhile. */
  | { kind: 'out-of-budget'; pages: number; known: number };

/** What the summary line reports, however the run ended. */
interface RunTally {
  counts: Counts;
  io: {
    windows: number;
    eventPages: number;
    callPages: number;
    callsMissing: number;
    outboundMatched: number;
    outboundUnmatched: number;
    callListsPartial: number;
    readsOutOfBudget: number;
  };
  writer?: RecentCallsWriter;
  reconciler?: Reconciler;
  lostLease: boolean;
}

export async function runSyncJob(config: SyncJobConfig, deps: JobDeps): Promise<JobSummary> {
  const now = deps.now ?? (() => performance.now());
  const tally: RunTally = {
    counts: {
      written: 0,
      exists: 0,
      old: 0,
      duplicate: 0,
      ignored: 0,
      failedRetryable: 0,
      failedPermanent: 0,
      givenUp: 0,
      notAttempted: 0,
    },
    io: {
      windows: 0,
      eventPages: 0,
      callPages: 0,
      callsMissing: 0,
      outboundMatched: 0,
      outboundUnmatched: 0,
      callListsPartial: 0,
      readsOutOfBudget: 0,
    },
    lostLease: false,
  };
  let summary: JobSummary | undefined;
  let failure: unknown;
  try {
    summary = await run(config, deps, now, tally);
    return summary;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    logSummary(deps, now, tally, summary, failure);
  }
}

async function run(config: SyncJobConfig, deps: JobDeps, now: () => number, tally: RunTally): Promise<JobSummary> {
  const stopAt = deps.deadline.endsAt - STOP_MARGIN_MS;
  /** Reads (event and call pages) must end by then, leaving time to write what they found. */
  const readsEndBy = stopAt - Math.min(WINDOW_MIN_MS, config.budgetMs / 4);
  const serverNow = () => deps.control.http.serverNow();
  const maxWindowMs = config.ttlDays * DAY_MS;
  const { counts, io } = tally;
  const store = new CheckpointStore(deps.control.client, config.serviceSid, deps.checkpointKey, deps.limiter);

  const [leaseResult, serviceResult] = await Promise.allSettled([
    acquireLease(store, deps.runId, serverNow, config.budgetMs + LEASE_MARGIN_MS, MAX_BUDGET_MS + LEASE_MARGIN_MS),
    deps.control.client.sync.v1.services(config.serviceSid).fetch(),
  ]);
  if (leaseResult.status === 'rejected') throw leaseResult.reason;
  const lease = leaseResult.value;
  if (!lease.ok) {
    deps.log.info('sync run skipped: another run holds the lease', { reason: lease.reason, until: lease.until });
    return {
      done: false,
      busy: true,
      processed: 0,
      written: 0,
      skipped: 0,
      failed: 0,
      remaining: 0,
      remainingExact: false,
      syncedThrough: null,
    };
  }
  if (lease.rejectedState) {
    deps.log.warn(
      'checkpoint failed its seal check (not written by this job): ignored, starting from the oldest call inside the TTL',
      { reason: lease.rejectedState },
    );
  }
  if (lease.ignoredLease) {
    deps.log.warn('checkpoint lease ends further ahead than any run takes it: ignored', {
      owner: lease.ignoredLease.owner,
      until: lease.ignoredLease.until,
    });
  }
  if (serviceResult.status === 'rejected') {
    // Holding the lease: hand it back before failing, so the next run need not wait for it to expire.
    await store.save({ ...lease.checkpoint.state, lease: null }, lease.checkpoint.revision).catch(() => undefined);
    throw serviceResult.reason;
  }
  const service = serviceResult.value;
  let checkpoint: Checkpoint = lease.checkpoint;
  let state: CheckpointState = checkpoint.state;
  let caughtUp = false;
  let readError: unknown;
  let remaining = 0;
  const failures: CheckpointFailure[] = [...state.failures];
  const attempts: Record<string, RecordAttempts> = { ...state.attempts };

  const trusted = trustedCursor(state, serverNow());
  if (trusted.ignored !== undefined) {
    deps.log.warn(
      "checkpoint cursor is ahead of Twilio's clock: ignored, starting from the oldest call inside the TTL",
      { cursor: trusted.ignored },
    );
    state = { ...state, cursor: null };
  }
  let cursor = startCursor(trusted.cursorMs, serverNow(), config.ttlDays);
  let windowMs = initialWindow(state.windowSeconds, maxWindowMs);
  let identities: Map<string, string> | undefined;
  const pages = new PageBudget(deps.deadline.shortenedBy(deps.deadline.endsAt - readsEndBy));
  const writer = new RecentCallsWriter({
    client: deps.work.client,
    serviceSid: config.serviceSid,
    limiter: deps.limiter,
    concurrency: config.concurrency,
    perMapConcurrency: PER_MAP_CONCURRENCY,
    ttlDays: config.ttlDays,
    serverNow,
    aclEnabled: service.aclEnabled,
    stopAt,
    now,
    log: deps.log,
    identityOf: (workerSid) => identities?.get(workerSid),
  });
  tally.writer = writer;
  // Records already in their maps (written by /taskrouter-events) are found with one range read per map, not rewritten.
  const reconciler = new Reconciler({ client: deps.work.client, serviceSid: config.serviceSid, stopAt, now });
  tally.reconciler = reconciler;

  const save = async (next: CheckpointState): Promise<boolean> => {
    const saved = await store.save(next, checkpoint.revision);
    if (!saved.ok) {
      tally.lostLease = true;
      deps.log.warn('checkpoint moved by another run; this run stops without advancing it');
      return false;
    }
    checkpoint = saved.checkpoint;
    state = next;
    return true;
  };

  /** Reads one window whole (completions, then one Calls list), or says why it could not. */
  const readWindow = async (window: TimeWindow, firstOfRun: boolean): Promise<WindowReadResult> => {
    let known = 0;
    let pagesRead = 0;
    try {
      const read = await readCompletions(deps.work.client, {
        workspaceSid: config.workspaceSid,
        fromMs: window.fromMs,
        toMs: window.toMs,
        maxEvents: MAX_EVENTS_PER_WINDOW,
        budget: pages,
      });
      io.eventPages += read.pages;
      pagesRead += read.pages;
      known = read.completionsSeen;
      if (read.overflow) return { kind: 'overflow' };
      if (read.outOfBudget) return { kind: 'out-of-budget', pages: pagesRead, known };
      const { first, duplicates } = uniqueRecords(read.completions);
      known = first.length;

      // Out of budget: a shorter window (or a fresh run) reads a shorter list, unless the list answers whole days
      // (a filter honoured by the day only) and the run had its whole budget: then shrinking cannot help, and the
      // window is written with what was read rather than retry the same list forever (a busy day).
      const built = await readRecords(deps.work.client, first, {
        maxCalls: MAX_CALLS_PER_WINDOW,
        budget: pages,
        acceptPartial: (calls) => firstOfRun && calls.beyondRange,
      });
      io.callPages += built.pages;
      pagesRead += built.pages;
      if (built.kind === 'out-of-budget') return { kind: 'out-of-budget', pages: pagesRead, known };
      if (built.partialCalls) {
        io.callListsPartial += 1;
        deps.log.warn('calls list not read whole: records without their call take the task times', {
          pages: built.pages,
        });
      }
      // Counted once the window is read whole (a window read again by the next run is counted then).
      for (const n of Object.values(read.ignored)) counts.ignored += n;
      counts.duplicate += duplicates;
      const { records } = built;
      io.callsMissing += records.filter((r) => r.startSource !== 'call').length;
      io.outboundMatched += records.filter((r) => r.callSource === 'matched').length;
      io.outboundUnmatched += records.filter((r) => r.callSource === 'none').length;
      return { kind: 'read', completions: read.completions, records };
    } catch (error) {
      // A read that failed at the reads' deadline (its timeout is the remaining budget): the window did not fit.
      if (isUpstreamFailure(error) && now() >= readsEndBy) {
        deps.log.warn('window read timed out at the budget', { code: (error as { code?: unknown }).code });
        return { kind: 'out-of-budget', pages: pagesRead + 1, known };
      }
      throw error;
    }
  };

  try {
    for (let w = 0; w < MAX_WINDOWS_PER_RUN; w++) {
      if (now() >= readsEndBy) break;
      const window = nextWindow(cursor, safeEnd(serverNow(), config.eventLagSeconds), windowMs);
      if (!window) {
        caughtUp = true;
        break;
      }
      const windowStartedAt = now();
      const firstOfRun = io.windows === 0;
      io.windows += 1;
      const spanMs = window.toMs - window.fromMs;
      const read = await readWindow(window, firstOfRun);
      if (read.kind === 'overflow') {
        if (windowMs <= MIN_WINDOW_MS)
          throw new Error(`more than ${MAX_EVENTS_PER_WINDOW} completions in ${MIN_WINDOW_MS} ms`);
        windowMs = adaptWindow(
          Math.min(windowMs, spanMs),
          { overflow: true, finished: false, committedSpanMs: 0 },
          maxWindowMs,
        );
        continue;
      }
      if (read.kind === 'out-of-budget') {
        remaining += read.known;
        if (read.pages > 0) io.readsOutOfBudget += 1;
        // The first window of a run had the whole budget: it is too long to be read in one run. A later window
        // just came too late in this run: the next run reads it with a fresh budget.
        if (firstOfRun && read.pages > 0) {
          windowMs = adaptWindow(
            Math.min(windowMs, spanMs),
            { overflow: true, finished: false, committedSpanMs: 0 },
            maxWindowMs,
          );
          deps.log.warn('window not read within the budget: the next run takes a shorter one', {
            windowSeconds: Math.round(spanMs / 1000),
            nextWindowSeconds: Math.round(windowMs / 1000),
            pages: read.pages,
          });
        }
        break;
      }
      const { completions, records } = read;

      if (service.aclEnabled && identities === undefined && records.some((r) => !r.identity)) {
        identities = await readWorkerIdentities(deps.control.client, {
          workspaceSid: config.workspaceSid,
          maxWorkers: MAX_WORKERS,
        });
      }
      const written = await reconciler.writeMissing(writer, records);
      // Twilio took writes in this window: a record failing with 5xx here is singled out, not an outage.
      const wroteOthers = written.some((o) => o.kind === 'written' || o.kind === 'exists');
      const outcomeOf = new Map<string, WriteOutcome>();
      records.forEach((record, i) => {
        let outcome = written[i];
        if (outcome.kind === 'failed' && outcome.retryable) {
          const attempt = recordAttempt(attempts[record.eventSid]?.runs, outcome, wroteOthers);
          if (attempt.giveUp) {
            deps.log.error('recent call given up: it failed in too many runs', {
              workerSid: record.workerSid,
              key: record.itemKey,
              eventSid: record.eventSid,
              code: outcome.code,
              runs: attempt.runs,
            });
            counts.givenUp += 1;
            outcome = { kind: 'failed', retryable: false, code: `GAVE_UP_${outcome.code}` };
          } else if (attempt.runs > 0) {
            attempts[record.eventSid] = { runs: attempt.runs, at: new Date(record.eventDateMs).toISOString() };
          }
        }
        if (isCommitted(outcome)) delete attempts[record.eventSid];
        outcomeOf.set(record.eventSid, outcome);
        countOutcome(counts, outcome);
        if (outcome.kind === 'failed' && !outcome.retryable) {
          failures.push({
            key: record.itemKey,
            callSid: record.callSid,
            workerSid: record.workerSid,
            code: outcome.code,
            at: new Date(record.eventDateMs).toISOString(),
          });
        }
      });
      remaining = records.filter((r) => !isCommitted(outcomeOf.get(r.eventSid))).length;
      // Duplicates are committed with the first completion of their call, which sorts before them.
      const newCursor = commitCursor(
        completions,
        (c) => !outcomeOf.has(c.eventSid) || isCommitted(outcomeOf.get(c.eventSid)),
        window,
      );
      const allAttempted = written.every((o) => o.kind !== 'not-attempted');
      const noneAttempted = written.length > 0 && written.every((o) => o.kind === 'not-attempted' && !o.itemWritten);
      // Cut by the budget with some of the window written: it held more than a run can write, so it shrinks. With
      // nothing of it attempted, the cut says nothing about its length (the run, or its maps' rate slots, had no
      // time left): it is kept. Every record attempted (some may have failed): it grows.
      if (!noneAttempted) {
        windowMs = adaptWindow(
          Math.min(windowMs, spanMs),
          {
            finished: allAttempted,
            quick: allAttempted && now() - windowStartedAt < config.budgetMs / 4,
            committedSpanMs: newCursor - window.fromMs,
          },
          maxWindowMs,
        );
      }
      if (
        !(await save({
          ...state,
          cursor: new Date(newCursor).toISOString(),
          windowSeconds: Math.round(windowMs / 1000),
          updatedAt: new Date(serverNow()).toISOString(),
          failures: failures.slice(-MAX_FAILURES),
          attempts: boundAttempts(attempts, newCursor),
        }))
      ) {
        break;
      }
      cursor = newCursor;
      if (newCursor !== window.toMs) break; // a record is not committed: the next run starts at it
    }
  } catch (error) {
    readError = error;
    deps.log.warn('sync run stopped early', { error, code: (error as { code?: unknown }).code });
  }

  const failed = counts.failedRetryable + counts.failedPermanent;
  const summary: JobSummary = {
    done: caughtUp && !tally.lostLease && readError === undefined,
    processed: counts.written + counts.exists + counts.old + counts.duplicate + counts.ignored + failed,
    written: counts.written,
    skipped: counts.exists + counts.old + counts.duplicate + counts.ignored,
    failed,
    remaining,
    remainingExact: false,
    syncedThrough: state.cursor,
  };
  if (!tally.lostLease) {
    const released = await save({
      ...state,
      lease: null,
      // Saved even when no window was committed: a window that did not fit teaches the next run to take less.
      windowSeconds: Math.round(windowMs / 1000),
      updatedAt: new Date(serverNow()).toISOString(),
      failures: failures.slice(-MAX_FAILURES),
      attempts: boundAttempts(attempts, cursorMsOf(state)),
      lastRun: { ...summaryFields(summary), at: new Date(serverNow()).toISOString() },
    }).catch((error) => {
      deps.log.warn('lease not released (it expires on its own)', { code: (error as { code?: unknown }).code });
      return false;
    });
    if (!released) summary.done = false;
  }
  summary.remainingExact = summary.done;
  summary.syncedThrough = state.cursor;
  if (lease.rejectedState || store.forgeries > 0) summary.checkpointIgnored = lease.rejectedState ?? 'tampered';
  // Twilio unreachable before anything was done (→ 503), or a bug (→ 500): fail the invocation after saving.
  if (readError !== undefined && (summary.processed === 0 || !isUpstreamFailure(readError))) throw readError;
  return summary;
}

/** The one summary line of an invocation, whatever happened. */
function logSummary(
  deps: JobDeps,
  now: () => number,
  t: RunTally,
  summary: JobSummary | undefined,
  failure: unknown,
): void {
  const { counts, io } = t;
  const failed = counts.failedRetryable + counts.failedPermanent;
  const fields: Record<string, unknown> = summary
    ? summaryFields(summary)
    : {
        done: false,
        processed: counts.written + counts.exists + counts.old + counts.duplicate + counts.ignored + failed,
        written: counts.written,
        skipped: counts.exists + counts.old + counts.duplicate + counts.ignored,
        failed,
        remaining: 0,
        remainingExact: false,
        syncedThrough: '',
      };
  const metrics = [deps.work.http.metrics, deps.control.http.metrics];
  const line = {
    ...fields,
    busy: summary?.busy === true,
    exists: counts.exists,
    old: counts.old,
    duplicate: counts.duplicate,
    ignored: counts.ignored,
    failedRetryable: counts.failedRetryable,
    failedPermanent: counts.failedPermanent,
    givenUp: counts.givenUp,
    notAttempted: counts.notAttempted,
    requests: metrics.reduce((n, m) => n + m.requests, 0),
    retries: metrics.reduce((n, m) => n + m.retries, 0),
    throttled: metrics.reduce((n, m) => n + m.throttled, 0),
    serverErrors: metrics.reduce((n, m) => n + m.serverErrors, 0),
    networkErrors: metrics.reduce((n, m) => n + m.networkErrors, 0),
    ...t.writer?.stats,
    ...t.reconciler?.stats,
    ...io,
    lostLease: t.lostLease,
    elapsedMs: Math.round(now() - deps.startedAt),
    ...(failure === undefined ? {} : { error: errorCode(failure) }),
  };
  if (failure === undefined) deps.log.info('sync run summary', line);
  else deps.log.error('sync run summary', line);
}

function cursorMsOf(state: CheckpointState): number {
  return state.cursor === null ? Number.NEGATIVE_INFINITY : Date.parse(state.cursor);
}

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; status?: unknown; name?: unknown };
  if (e && (typeof e.code === 'string' || typeof e.code === 'number')) return String(e.code);
  if (e && typeof e.status === 'number') return `HTTP_${e.status}`;
  return e && typeof e.name === 'string' ? e.name : 'UNKNOWN';
}

function countOutcome(counts: Counts, outcome: WriteOutcome): void {
  switch (outcome.kind) {
    case 'written':
      counts.written += 1;
      break;
    case 'exists':
      counts.exists += 1;
      break;
    case 'old':
      counts.old += 1;
      break;
    case 'not-attempted':
      // An item created whose map permission the budget left for the next run: written by this run all the same.
      if (outcome.itemWritten) counts.written += 1;
      else counts.notAttempted += 1;
      break;
    case 'failed':
      if (outcome.retryable) counts.failedRetryable += 1;
      else counts.failedPermanent += 1;
      break;
  }
}

function summaryFields(s: JobSummary): Record<string, number | boolean | string> {
  return {
    done: s.done,
    processed: s.processed,
    written: s.written,
    skipped: s.skipped,
    failed: s.failed,
    remaining: s.remaining,
    remainingExact: s.remainingExact,
    syncedThrough: s.syncedThrough ?? '',
    ...(s.checkpointIgnored ? { checkpointIgnored: s.checkpointIgnored } : {}),
  };
}
