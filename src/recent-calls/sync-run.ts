/**
 * One run of the recent-calls sync, as steps the job (job.ts) drives:
 *
 *   begin    take the lease (checkpoint, If-Match) and read the service; decide where to start and how long a window is
 *   read     one window's completions and their calls (window-read.ts)
 *   apply    write the window's records not yet in their maps (reconcile.ts, writer.ts) and commit the outcomes
 *            (window-commit.ts): given-up records, attempt entries, failures, the new cursor, the next window length
 *   advance  save the new cursor (If-Match); false when another run moved the checkpoint (this run then stops)
 *   finish   release the lease with the run's counts and answer the invocation's summary
 *
 * A run owns its counts (run-summary.ts) from the start, so the one summary line can be written however it ended.
 */
import { MAX_BUDGET_MS, type SyncJobConfig } from '../config/sync-job';
import type { Logger } from '../observability/logger';
import type { ProjectTwilioClient } from '../twilio/client-factory';
import { isUpstreamFailure } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { boundAttempts, type RecordAttempts } from './attempts';
import { DAY_MS } from './call-record';
import { cursorMs, EMPTY_STATE, MAX_FAILURES, type CheckpointFailure, type CheckpointState } from './checkpoint-state';
import { CheckpointStore, type Checkpoint, type SealFailure } from './checkpoint-store';
import { nextWindow, safeEnd, startCursor, trustedCursor, type TimeWindow } from './cursor';
import { acquireLease, leaseMsFor } from './lease';
import { PageBudget } from './paging';
import { Reconciler } from './reconcile';
import type { RunBudget } from './run-budget';
import {
  countOutcome,
  emptyOutcomeCounts,
  emptyReadCounts,
  runTotals,
  summaryFields,
  summaryLine,
  type JobSummary,
} from './run-summary';
import { commitWindow, type WindowCommit } from './window-commit';
import { countWindow, MAX_EVENTS_PER_WINDOW, readWindow, type WindowRead } from './window-read';
import { initialWindow, MIN_WINDOW_MS, windowAfterOverflow, windowAfterWrite } from './window-size';
import { readWorkerIdentities } from './workers-source';
import { RecentCallsWriter } from './writer';

const MAX_WORKERS = 10_000;
/** Writes in flight at once for one map (its rate limiter paces them). */
const PER_MAP_CONCURRENCY = 4;

export interface SyncRunDeps {
  /** Reads and item writes; its deadline is the run's budget. */
  work: ProjectTwilioClient;
  /** Checkpoint and service reads/saves; its deadline leaves room to save after the budget. */
  control: ProjectTwilioClient;
  limiter: ObjectRateLimiter;
  /** Seals the checkpoint (checkpointKey): a stored state without this key's seal is ignored. */
  checkpointKey: Buffer;
  log: Logger;
  runId: string;
}

/** What `begin` found out, needed by every later step. */
interface Started {
  checkpoint: Checkpoint;
  aclEnabled: boolean;
  rejectedState?: SealFailure;
  writer: RecentCallsWriter;
  reconciler: Reconciler;
}

export class SyncRun {
  readonly counts = emptyOutcomeCounts();
  readonly reads = emptyReadCounts();
  /** Another run moved the checkpoint: this run stopped without advancing it. */
  lostLease = false;
  /** Completions known to be still waiting (JobSummary.remaining). */
  remaining = 0;

  private readonly store: CheckpointStore;
  private readonly pages: PageBudget;
  private readonly maxWindowMs: number;
  private started?: Started;
  private state: CheckpointState = EMPTY_STATE;
  private failures: CheckpointFailure[] = [];
  private attempts: Record<string, RecordAttempts> = {};
  private identities?: Map<string, string>;
  private cursor = 0;
  private windowMs = 0;

  constructor(
    private readonly config: SyncJobConfig,
    private readonly deps: SyncRunDeps,
    readonly budget: RunBudget,
  ) {
    this.store = new CheckpointStore(deps.control.client, config.serviceSid, deps.checkpointKey, deps.limiter);
    this.pages = new PageBudget(budget.reads);
    this.maxWindowMs = config.ttlDays * DAY_MS;
  }

  private serverNow(): number {
    return this.deps.control.http.serverNow();
  }

  private get run(): Started {
    if (!this.started) throw new Error('SyncRun used before begin()');
    return this.started;
  }

  /**
   * Takes the lease and reads the service (at once); false when another run holds the lease. Holding the lease when
   * the service read fails, it hands the lease back before throwing, so the next run need not wait for it to expire.
   */
  async begin(): Promise<boolean> {
    const { config, deps } = this;
    const [leaseResult, serviceResult] = await Promise.allSettled([
      acquireLease(
        this.store,
        deps.runId,
        () => this.serverNow(),
        leaseMsFor(config.budgetMs),
        leaseMsFor(MAX_BUDGET_MS),
      ),
      deps.control.client.sync.v1.services(config.serviceSid).fetch(),
    ]);
    if (leaseResult.status === 'rejected') throw leaseResult.reason;
    const lease = leaseResult.value;
    if (!lease.ok) {
      deps.log.info('sync run skipped: another run holds the lease', { reason: lease.reason, until: lease.until });
      return false;
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
      await this.store
        .save({ ...lease.checkpoint.state, lease: null }, lease.checkpoint.revision)
        .catch(() => undefined);
      throw serviceResult.reason;
    }
    const aclEnabled = serviceResult.value.aclEnabled;
    this.state = lease.checkpoint.state;
    this.failures = [...this.state.failures];
    this.attempts = { ...this.state.attempts };

    const trusted = trustedCursor(this.state.cursor, this.serverNow());
    if (trusted.ignored !== undefined) {
      deps.log.warn(
        "checkpoint cursor is ahead of Twilio's clock: ignored, starting from the oldest call inside the TTL",
        { cursor: trusted.ignored },
      );
      this.state = { ...this.state, cursor: null };
    }
    this.cursor = startCursor(trusted.cursorMs, this.serverNow(), config.ttlDays);
    this.windowMs = initialWindow(this.state.windowSeconds, this.maxWindowMs);
    // The writer and the reconciler start no request after the writes' deadline (on its clock).
    const stopAt = this.budget.writes.endsAt;
    const now = () => this.budget.writes.now();
    const writer = new RecentCallsWriter({
      client: deps.work.client,
      serviceSid: config.serviceSid,
      limiter: deps.limiter,
      concurrency: config.concurrency,
      perMapConcurrency: PER_MAP_CONCURRENCY,
      ttlDays: config.ttlDays,
      serverNow: () => this.serverNow(),
      aclEnabled,
      stopAt,
      now,
      log: deps.log,
      identityOf: (workerSid) => this.identities?.get(workerSid),
    });
    // Records already in their maps (written by /taskrouter-events) are found with one range read per map, not rewritten.
    const reconciler = new Reconciler({
      client: deps.work.client,
      serviceSid: config.serviceSid,
      stopAt,
      now,
    });
    this.started = { checkpoint: lease.checkpoint, aclEnabled, rejectedState: lease.rejectedState, writer, reconciler };
    return true;
  }

  /** The next window to read from the cursor, or undefined when the run has caught up with the settled events. */
  nextWindow(): TimeWindow | undefined {
    return nextWindow(this.cursor, safeEnd(this.serverNow(), this.config.eventLagSeconds), this.windowMs);
  }

  read(window: TimeWindow, firstOfRun: boolean): Promise<WindowRead> {
    const { deps } = this;
    return readWindow(
      {
        client: deps.work.client,
        workspaceSid: this.config.workspaceSid,
        pages: this.pages,
        deadline: this.budget.reads,
        log: deps.log,
        reads: this.reads,
      },
      window,
      firstOfRun,
    );
  }

  /** The window held too many events: the next one is shorter (none can be shorter than MIN_WINDOW_MS). */
  overflowed(window: TimeWindow): void {
    if (this.windowMs <= MIN_WINDOW_MS)
      throw new Error(`more than ${MAX_EVENTS_PER_WINDOW} completions in ${MIN_WINDOW_MS} ms`);
    this.windowMs = windowAfterOverflow(this.windowMs, window, this.maxWindowMs);
  }

  /**
   * The window could not be read within the budget. The first window of a run had the whole budget: it is too long
   * to be read in one run, and the next run takes a shorter one. A later window just came too late in this run: the
   * next run reads it with a fresh budget.
   */
  outOfBudget(window: TimeWindow, read: Extract<WindowRead, { kind: 'out-of-budget' }>, firstOfRun: boolean): void {
    this.remaining += read.known;
    if (read.pages > 0) this.reads.readsOutOfBudget += 1;
    if (!firstOfRun || read.pages === 0) return;
    this.windowMs = windowAfterOverflow(this.windowMs, window, this.maxWindowMs);
    this.deps.log.warn('window not read within the budget: the next run takes a shorter one', {
      windowSeconds: Math.round((window.toMs - window.fromMs) / 1000),
      nextWindowSeconds: Math.round(this.windowMs / 1000),
      pages: read.pages,
    });
  }

  /** Writes the window's records and commits their outcomes (counts, attempts, failures, next window length). */
  async apply(
    window: TimeWindow,
    read: Extract<WindowRead, { kind: 'read' }>,
    windowStartedAt: number,
  ): Promise<WindowCommit> {
    const { config, deps } = this;
    const { writer, reconciler, aclEnabled } = this.run;
    countWindow(read, this.counts, this.reads);
    const { records } = read;
    if (aclEnabled && this.identities === undefined && records.some((r) => !r.identity)) {
      this.identities = await readWorkerIdentities(deps.control.client, {
        workspaceSid: config.workspaceSid,
        maxWorkers: MAX_WORKERS,
      });
    }
    const written = await reconciler.writeMissing(writer, records);
    const commit = commitWindow({
      window,
      completions: read.completions,
      records,
      written,
      attempts: this.attempts,
    });
    for (const { record, code, runs } of commit.givenUp) {
      deps.log.error('recent call given up: it failed in too many runs', {
        workerSid: record.workerSid,
        key: record.itemKey,
        eventSid: record.eventSid,
        code,
        runs,
      });
      this.counts.givenUp += 1;
    }
    for (const outcome of commit.outcomes) countOutcome(this.counts, outcome);
    this.attempts = commit.attempts;
    this.failures.push(...commit.failures);
    this.remaining = commit.remaining;
    this.windowMs = windowAfterWrite({
      windowMs: this.windowMs,
      window,
      outcomes: written,
      cursorMs: commit.cursorMs,
      elapsedMs: this.budget.work.now() - windowStartedAt,
      budgetMs: config.budgetMs,
      maxMs: this.maxWindowMs,
    });
    return commit;
  }

  /** Saves the cursor a window committed; false when another run moved the checkpoint (this run must stop). */
  async advance(commit: WindowCommit): Promise<boolean> {
    const saved = await this.save({
      ...this.state,
      cursor: new Date(commit.cursorMs).toISOString(),
      windowSeconds: Math.round(this.windowMs / 1000),
      updatedAt: new Date(this.serverNow()).toISOString(),
      failures: this.failures.slice(-MAX_FAILURES),
      attempts: boundAttempts(this.attempts, commit.cursorMs),
    });
    if (saved) this.cursor = commit.cursorMs;
    return saved;
  }

  /**
   * The invocation's answer; the lease is released with it (unless another run took the checkpoint). `caughtUp`:
   * the run read every settled event; `stoppedBy`: the error that ended the run's windows early, if one did.
   */
  async finish(caughtUp: boolean, stoppedBy: unknown): Promise<JobSummary> {
    const { deps } = this;
    const summary: JobSummary = {
      done: caughtUp && !this.lostLease && stoppedBy === undefined,
      ...runTotals(this.counts),
      remaining: this.remaining,
      remainingExact: false,
      syncedThrough: this.state.cursor,
    };
    if (!this.lostLease) {
      const released = await this.save({
        ...this.state,
        lease: null,
        // Saved even when no window was committed: a window that did not fit teaches the next run to take less.
        windowSeconds: Math.round(this.windowMs / 1000),
        updatedAt: new Date(this.serverNow()).toISOString(),
        failures: this.failures.slice(-MAX_FAILURES),
        attempts: boundAttempts(this.attempts, cursorMs(this.state) ?? Number.NEGATIVE_INFINITY),
        lastRun: { ...summaryFields(summary), at: new Date(this.serverNow()).toISOString() },
      }).catch((error) => {
        deps.log.warn('lease not released (it expires on its own)', { code: (error as { code?: unknown }).code });
        return false;
      });
      if (!released) summary.done = false;
    }
    summary.remainingExact = summary.done;
    summary.syncedThrough = this.state.cursor;
    const { rejectedState } = this.run;
    if (rejectedState || this.store.forgeries > 0) summary.checkpointIgnored = rejectedState ?? 'tampered';
    // Twilio unreachable before anything was done (→ 503), or a bug (→ 500): fail the invocation after saving.
    if (stoppedBy !== undefined && (summary.processed === 0 || !isUpstreamFailure(stoppedBy))) throw stoppedBy;
    return summary;
  }

  /** The fields of the invocation's one summary line (`summary`: its answer, if it got that far). */
  summaryLine(summary: JobSummary | undefined, failure: unknown, elapsedMs: number): Record<string, unknown> {
    return summaryLine({
      summary,
      counts: this.counts,
      reads: this.reads,
      metrics: [this.deps.work.http.metrics, this.deps.control.http.metrics],
      stats: { ...this.started?.writer.stats, ...this.started?.reconciler.stats },
      lostLease: this.lostLease,
      elapsedMs,
      failure,
    });
  }

  /** One If-Match save on the revision this run last wrote. */
  private async save(next: CheckpointState): Promise<boolean> {
    const saved = await this.store.save(next, this.run.checkpoint.revision);
    if (!saved.ok) {
      this.lostLease = true;
      this.deps.log.warn('checkpoint moved by another run; this run stops without advancing it');
      return false;
    }
    this.run.checkpoint = saved.checkpoint;
    this.state = next;
    return true;
  }
}
