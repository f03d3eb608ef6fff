/**
 * What a run reports (pure): the counts of its write outcomes, the answer of the invocation (JobSummary), and the one
 * "sync run summary" log line every invocation writes, whether it worked, found the job busy, or failed.
 * `processed` = `written` + `skipped` + `failed`, for this invocation only (runTotals: the one place that adds them).
 */
import type { TwilioCallMetrics } from '../twilio/http-client';
import type { WriteOutcome } from './writer';

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
  /** The shard this run synced (`1-of-3`); absent for the regular run. */
  shard?: string;
}

/** How the records a run handled ended. */
export interface OutcomeCounts {
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

/** What the run read, for the summary line. */
export interface ReadCounts {
  windows: number;
  eventPages: number;
  callPages: number;
  callsMissing: number;
  outboundMatched: number;
  outboundUnmatched: number;
  callListsPartial: number;
  readsOutOfBudget: number;
}

export function emptyOutcomeCounts(): OutcomeCounts {
  return {
    written: 0,
    exists: 0,
    old: 0,
    duplicate: 0,
    ignored: 0,
    failedRetryable: 0,
    failedPermanent: 0,
    givenUp: 0,
    notAttempted: 0,
  };
}

export function emptyReadCounts(): ReadCounts {
  return {
    windows: 0,
    eventPages: 0,
    callPages: 0,
    callsMissing: 0,
    outboundMatched: 0,
    outboundUnmatched: 0,
    callListsPartial: 0,
    readsOutOfBudget: 0,
  };
}

/** Adds one write outcome to `counts`. */
export function countOutcome(counts: OutcomeCounts, outcome: WriteOutcome): void {
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

/** The invocation's totals: skipped = already there + too old + duplicate + ignored events; processed = all of them. */
export function runTotals(counts: OutcomeCounts): Pick<JobSummary, 'processed' | 'written' | 'skipped' | 'failed'> {
  const failed = counts.failedRetryable + counts.failedPermanent;
  const skipped = counts.exists + counts.old + counts.duplicate + counts.ignored;
  return { processed: counts.written + skipped + failed, written: counts.written, skipped, failed };
}

/** The answer of a run that found another run holding the lease: nothing done. */
export function busySummary(): JobSummary {
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

/** The summary's fields as the checkpoint's `lastRun` and the log line carry them (flat, primitive). */
export function summaryFields(s: JobSummary): Record<string, number | boolean | string> {
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
    ...(s.shard ? { shard: s.shard } : {}),
  };
}

/** The code a failed invocation's summary line names: the error's code, its HTTP status, or its name. */
export function errorCode(error: unknown): string {
  const e = error as { code?: unknown; status?: unknown; name?: unknown };
  if (e && (typeof e.code === 'string' || typeof e.code === 'number')) return String(e.code);
  if (e && typeof e.status === 'number') return `HTTP_${e.status}`;
  return e && typeof e.name === 'string' ? e.name : 'UNKNOWN';
}

/**
 * The fields of the one summary line of an invocation, whatever happened: the answer (or, when the run failed
 * before it had one, the totals so far), every count, the HTTP clients' request counts, and the error's code.
 */
export function summaryLine(input: {
  summary: JobSummary | undefined;
  counts: OutcomeCounts;
  reads: ReadCounts;
  metrics: readonly TwilioCallMetrics[];
  /** Writer and reconciler statistics, as they have them. */
  stats: Record<string, number>;
  lostLease: boolean;
  elapsedMs: number;
  /** What the run threw, if it did. */
  failure?: unknown;
}): Record<string, unknown> {
  const { summary, counts, metrics } = input;
  const fields: Record<string, unknown> = summary
    ? summaryFields(summary)
    : { done: false, ...runTotals(counts), remaining: 0, remainingExact: false, syncedThrough: '' };
  const sum = (key: keyof TwilioCallMetrics) => metrics.reduce((n, m) => n + m[key], 0);
  return {
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
    requests: sum('requests'),
    retries: sum('retries'),
    throttled: sum('throttled'),
    serverErrors: sum('serverErrors'),
    networkErrors: sum('networkErrors'),
    ...input.stats,
    ...input.reads,
    lostLease: input.lostLease,
    elapsedMs: Math.round(input.elapsedMs),
    ...(input.failure === undefined ? {} : { error: errorCode(input.failure) }),
  };
}
