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
 * recorded in the checkpoint for operators and passed.
 */
import type { Logger } from '../observability/logger';
import type { ProjectTwilioClient } from '../twilio/client-factory';
import { isUpstreamFailure } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { buildCallRecord, type CallRecord } from './call-record';
import { readCallTimings, type CallTiming } from './calls-source';
import { acquireLease, CheckpointStore, cursorMs, MAX_FAILURES, type Checkpoint, type CheckpointState } from './checkpoint';
import type { SyncJobConfig } from '../config/sync-job';
import { readCompletions, type Completion } from './events-source';
import { readWorkerIdentities } from './workers-source';
import { adaptWindow, commitCursor, MIN_WINDOW_MS, nextWindow, safeEnd, startCursor } from './window';
import { isCommitted, RecentCallsWriter, type WriteOutcome } from './writer';

const DAY_MS = 86_400_000;
/** No write starts in the last few ms of the budget (it would not finish; the checkpoint save needs the time). */
const STOP_MARGIN_MS = 300;
/** A window is only started with at least this much budget left (reads, then writes). */
const WINDOW_MIN_MS = 700;
const LEASE_MARGIN_MS = 4000;
const MAX_EVENTS_PER_WINDOW = 10_000;
const MAX_CALLS_PER_WINDOW = 20_000;
const MAX_WORKERS = 10_000;
const MAX_WINDOWS_PER_RUN = 100;
/** Calls can start this long before their task was created (IVR, queue before the task): widen the Calls list. */
const CALL_LOOKBACK_MS = 60 * 60_000;
const PER_MAP_CONCURRENCY = 4;
const LIMITER_BURST = 3;

export interface JobDeps {
  /** Reads and item writes; its deadline is the run's budget. */
  work: ProjectTwilioClient;
  /** Checkpoint and service reads/saves; its deadline leaves room to save after the budget. */
  control: ProjectTwilioClient;
  limiter: ObjectRateLimiter;
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
  remaining: number;
  /** Another run holds the lease: nothing was done, call again shortly. */
  busy?: boolean;
  /** The checkpoint: every completion before this instant is synced. */
  syncedThrough: string | null;
}

interface Counts {
  written: number;
  exists: number;
  old: number;
  duplicate: number;
  ignored: number;
  failedRetryable: number;
  failedPermanent: number;
  notAttempted: number;
}

/** The per-map limiter settings the job uses, for callers that keep one limiter across invocations. */
export function limiterSettings(config: Pick<SyncJobConfig, 'mapWritesPerSecond'>) {
  return { ratePerSecond: config.mapWritesPerSecond, burst: LIMITER_BURST };
}

function uniqueRecords(completions: readonly Completion[]): { first: Completion[]; duplicates: number } {
  const seen = new Set<string>();
  const first: Completion[] = [];
  for (const c of completions) {
    const key = `${c.workerSid}|${c.callSid}`;
    if (seen.has(key)) continue;
    seen.add(key);
    first.push(c);
  }
  return { first, duplicates: completions.length - first.length };
}

function estimatedStart(c: Completion): number {
  return c.eventDateMs - (c.taskAgeSeconds ?? 0) * 1000;
}

export async function runSyncJob(config: SyncJobConfig, deps: JobDeps): Promise<JobSummary> {
  const now = deps.now ?? (() => performance.now());
  const stopAt = deps.startedAt + config.budgetMs - STOP_MARGIN_MS;
  const serverNow = () => deps.control.http.serverNow();
  const maxWindowMs = config.ttlDays * DAY_MS;
  const counts: Counts = { written: 0, exists: 0, old: 0, duplicate: 0, ignored: 0, failedRetryable: 0, failedPermanent: 0, notAttempted: 0 };
  const io = { windows: 0, eventPages: 0, callPages: 0, callsMissing: 0 };
  const store = new CheckpointStore(deps.control.client, config.serviceSid, deps.limiter);

  const [leaseResult, serviceResult] = await Promise.allSettled([
    acquireLease(store, deps.runId, serverNow, config.budgetMs + LEASE_MARGIN_MS),
    deps.control.client.sync.v1.services(config.serviceSid).fetch(),
  ]);
  if (leaseResult.status === 'rejected') throw leaseResult.reason;
  const lease = leaseResult.value;
  if (!lease.ok) {
    deps.log.info('sync run skipped: another run holds the lease', { reason: lease.reason, until: lease.until });
    return { done: false, busy: true, processed: 0, written: 0, skipped: 0, failed: 0, remaining: 0, syncedThrough: null };
  }
  if (serviceResult.status === 'rejected') {
    // Holding the lease: hand it back before failing, so the next run need not wait for it to expire.
    await store.save({ ...lease.checkpoint.state, lease: null }, lease.checkpoint.revision).catch(() => undefined);
    throw serviceResult.reason;
  }
  const service = serviceResult.value;
  let checkpoint: Checkpoint = lease.checkpoint;
  let state: CheckpointState = checkpoint.state;
  let lost = false;
  let caughtUp = false;
  let readError: unknown;
  let remaining = 0;
  const failures = [...state.failures];

  let cursor = startCursor(cursorMs(state), serverNow(), config.ttlDays);
  let windowMs = Math.min(maxWindowMs, state.windowSeconds ? state.windowSeconds * 1000 : maxWindowMs);
  let identities: Map<string, string> | undefined;
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

  const save = async (next: CheckpointState): Promise<boolean> => {
    const saved = await store.save(next, checkpoint.revision);
    if (!saved.ok) {
      lost = true;
      deps.log.warn('checkpoint moved by another run; this run stops without advancing it');
      return false;
    }
    checkpoint = saved.checkpoint;
    state = next;
    return true;
  };

  try {
    for (let w = 0; w < MAX_WINDOWS_PER_RUN; w++) {
      if (now() > stopAt - Math.min(WINDOW_MIN_MS, config.budgetMs / 4)) break;
      const window = nextWindow(cursor, safeEnd(serverNow(), config.eventLagSeconds), windowMs);
      if (!window) {
        caughtUp = true;
        break;
      }
      io.windows += 1;
      const read = await readCompletions(deps.work.client, {
        workspaceSid: config.workspaceSid,
        fromMs: window.fromMs,
        toMs: window.toMs,
        maxEvents: MAX_EVENTS_PER_WINDOW,
      });
      io.eventPages += read.pages;
      if (read.overflow) {
        if (windowMs <= MIN_WINDOW_MS) throw new Error(`more than ${MAX_EVENTS_PER_WINDOW} completions in ${MIN_WINDOW_MS} ms`);
        windowMs = adaptWindow(Math.min(windowMs, window.toMs - window.fromMs), { overflow: true, finished: false, committedSpanMs: 0 }, maxWindowMs);
        continue;
      }
      for (const n of Object.values(read.ignored)) counts.ignored += n;
      const { first, duplicates } = uniqueRecords(read.completions);
      counts.duplicate += duplicates;

      let timings = new Map<string, CallTiming>();
      if (first.length > 0) {
        const calls = await readCallTimings(deps.work.client, {
          fromMs: Math.min(...first.map(estimatedStart)) - CALL_LOOKBACK_MS,
          toMs: Math.max(...first.map((c) => c.eventDateMs)),
          maxCalls: MAX_CALLS_PER_WINDOW,
          wanted: new Set(first.map((c) => c.callSid)),
        });
        io.callPages += calls.pages;
        timings = calls.calls;
      }
      const records: CallRecord[] = first.map((c) => buildCallRecord(c, timings.get(c.callSid)));
      io.callsMissing += records.filter((r) => r.startSource !== 'call').length;

      if (service.aclEnabled && identities === undefined && records.some((r) => !r.identity)) {
        identities = await readWorkerIdentities(deps.control.client, { workspaceSid: config.workspaceSid, maxWorkers: MAX_WORKERS });
      }
      const outcomes = await writer.write(records);
      const outcomeOf = new Map<string, WriteOutcome>();
      records.forEach((record, i) => {
        const outcome = outcomes[i];
        outcomeOf.set(record.eventSid, outcome);
        tally(counts, outcome);
        if (outcome.kind === 'failed' && !outcome.retryable) {
          failures.push({ callSid: record.callSid, workerSid: record.workerSid, code: outcome.code, at: new Date(record.eventDateMs).toISOString() });
        }
      });
      remaining = outcomes.filter((o) => !isCommitted(o)).length;
      // Duplicates are committed with the first completion of their call, which sorts before them.
      const newCursor = commitCursor(read.completions, (c) => !outcomeOf.has(c.eventSid) || isCommitted(outcomeOf.get(c.eventSid)), window);
      const finished = newCursor === window.toMs;
      windowMs = adaptWindow(Math.min(windowMs, window.toMs - window.fromMs), { finished, committedSpanMs: newCursor - window.fromMs }, maxWindowMs);
      if (
        !(await save({
          ...state,
          cursor: new Date(newCursor).toISOString(),
          windowSeconds: Math.round(windowMs / 1000),
          updatedAt: new Date(serverNow()).toISOString(),
          failures: failures.slice(-MAX_FAILURES),
        }))
      ) {
        break;
      }
      cursor = newCursor;
      if (!finished) break;
    }
  } catch (error) {
    readError = error;
    deps.log.warn('sync run stopped early', { error, code: (error as { code?: unknown }).code });
  }

  const failed = counts.failedRetryable + counts.failedPermanent;
  const summary: JobSummary = {
    done: caughtUp && !lost && readError === undefined,
    processed: counts.written + counts.exists + counts.old + counts.duplicate + counts.ignored + failed,
    written: counts.written,
    skipped: counts.exists + counts.old + counts.duplicate + counts.ignored,
    failed,
    remaining,
    syncedThrough: state.cursor,
  };
  if (!lost) {
    const released = await save({
      ...state,
      lease: null,
      updatedAt: new Date(serverNow()).toISOString(),
      lastRun: { ...summaryFields(summary), at: new Date(serverNow()).toISOString() },
    }).catch((error) => {
      deps.log.warn('lease not released (it expires on its own)', { code: (error as { code?: unknown }).code });
      return false;
    });
    if (!released) summary.done = false;
  }
  summary.syncedThrough = state.cursor;

  const metrics = [deps.work.http.metrics, deps.control.http.metrics];
  deps.log.info('sync run summary', {
    ...summaryFields(summary),
    exists: counts.exists,
    old: counts.old,
    duplicate: counts.duplicate,
    ignored: counts.ignored,
    failedRetryable: counts.failedRetryable,
    failedPermanent: counts.failedPermanent,
    notAttempted: counts.notAttempted,
    requests: metrics.reduce((n, m) => n + m.requests, 0),
    retries: metrics.reduce((n, m) => n + m.retries, 0),
    throttled: metrics.reduce((n, m) => n + m.throttled, 0),
    serverErrors: metrics.reduce((n, m) => n + m.serverErrors, 0),
    networkErrors: metrics.reduce((n, m) => n + m.networkErrors, 0),
    ...writer.stats,
    ...io,
    lostLease: lost,
    elapsedMs: Math.round(now() - deps.startedAt),
  });
  // Twilio unreachable before anything was done (→ 503), or a bug (→ 500): fail the invocation after saving.
  if (readError !== undefined && (summary.processed === 0 || !isUpstreamFailure(readError))) throw readError;
  return summary;
}

function tally(counts: Counts, outcome: WriteOutcome): void {
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
      counts.notAttempted += 1;
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
    syncedThrough: s.syncedThrough ?? '',
  };
}
