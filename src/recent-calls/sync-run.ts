/**
 * One run of the recent-calls sync, as steps the job (job.ts) drives:
 *
 *   begin        take the lease (checkpoint, If-Match) and read the service; where to start, how long a window is
 *   startWindow  start a window's reads: its completions and calls (window-read.ts), the worker identities (once),
 *                and which records are already in their maps (reconcile.ts); the window at the cursor (whose new
 *                agents' maps are created and granted meanwhile), or the one after the window being written (read
 *                meanwhile, at most one ahead)
 *   apply        write the window's records not yet in their maps (writer.ts) and commit the outcomes
 *                (window-commit.ts): given-up records, attempt entries, failures, the new cursor, the next length
 *   advance      save the new cursor (If-Match), in the background and in order; false once another run has moved
 *                the checkpoint (this run then stops)
 *   finish       wait for the saves, release the lease with the run's counts, answer the invocation's summary
 *
 * A run owns its counts (run-summary.ts) from the start, so the one summary line can be written however it ended.
 */
import { MAX_BUDGET_MS, type SyncJobConfig } from '../config/sync-job';
import type { Logger } from '../observability/logger';
import type { ProjectTwilioClient } from '../twilio/client-factory';
import type { Deadline } from '../twilio/deadline';
import { isUpstreamFailure } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { boundAttempts, type RecordAttempts } from './attempts';
import { DAY_MS } from './call-record';
import { cursorMs, EMPTY_STATE, MAX_FAILURES, type CheckpointFailure, type CheckpointState } from './checkpoint-state';
import { CheckpointStore, type Checkpoint, type SealFailure } from './checkpoint-store';
import { nextWindow, safeEnd, startCursor, trustedCursor, type TimeWindow } from './cursor';
import type { Completion } from './events-source';
import { acquireLease, leaseMsFor } from './lease';
import { PageBudget } from './paging';
import { READ_CONCURRENCY, Reconciler, type FoundEntries, type MapLookup } from './reconcile';
import { writesLikelyToFinish, type RunBudget } from './run-budget';
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
import { initialWindow, MIN_WINDOW_MS, windowAfterOverflow, windowAfterWrite, windowAhead } from './window-size';
import { readWorkerIdentities } from './workers-source';
import { RecentCallsWriter } from './writer';
import {
  countsSharedEvents,
  isSharded,
  shardDocumentName,
  shardFilter,
  shardLabel,
  UNSHARDED,
  type Shard,
} from './shard';
import { listServiceMaps } from './service-maps';
import { readCheckpointCursors } from './shard-checkpoints';
import { adoptCursor, handoverCursor } from './shard-handover';

const MAX_WORKERS = 10_000;
/** Why a first window read beside the lease's save is not used: the run did not get the lease (nobody awaits it). */
const windowDropped = () => new Error('the lease was not taken: the window is dropped');
/** After the reads' deadline, a window at the cursor this short is still read (the seconds settled during the run)… */
export const CATCH_UP_SPAN_MS = 60_000;
/** …when the writes' budget has this much left. */
export const CATCH_UP_MIN_REMAINING_MS = 500;
/** A window's permanently failed records named in its error line (the checkpoint keeps the last MAX_FAILURES). */
const MAX_KEYS_LOGGED = 20;
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
  /** The agents this run syncs (shard.ts), with its own checkpoint; default every agent (the regular run). */
  shard?: Shard;
}

/** What `begin` found out, needed by every later step. */
interface Started {
  checkpoint: Checkpoint;
  aclEnabled: boolean;
  rejectedState?: SealFailure;
  writer: RecentCallsWriter;
  reconciler: Reconciler;
}

/** What reading a window gave, and (when it was read whole) which of its records are already in their maps. */
export type WindowReadDone = Extract<WindowRead, { kind: 'read' }> & { lookup: MapLookup };
export type WindowReadWithLookup = Exclude<WindowRead, { kind: 'read' }> | WindowReadDone;

/** A window whose reads have started. */
export interface PendingWindow {
  window: TimeWindow;
  /** The first window of the run (it had the whole budget). */
  firstOfRun: boolean;
  /** When its reads started, on the budget's clock. */
  startedAt: number;
  read: Promise<WindowReadWithLookup>;
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
  /** The pages of catch-up windows (read after the reads' deadline, within the writes'). */
  private catchUpPages?: PageBudget;
  private readonly maxWindowMs: number;
  private started?: Started;
  private state: CheckpointState = EMPTY_STATE;
  private failures: CheckpointFailure[] = [];
  private attempts: Record<string, RecordAttempts> = {};
  private identities?: Map<string, string>;
  private cursor = 0;
  private windowMs = 0;
  /** The window saves in order, each after the one before it. */
  private saving: Promise<void> = Promise.resolve();
  private saveError: unknown;
  /** When the last window's writes ended (a window read ahead counts its time from then). */
  private lastWritesEnd = Number.NEGATIVE_INFINITY;
  private readonly shard: Shard;
  private readonly owns: (workerSid: string) => boolean;
  /** True once begin() holds the lease (false if it did not get it): the first window's reads start before that. */
  private leaseHeld: Promise<boolean> = Promise.resolve(true);
  /** The first window, its reads started beside the lease's save. */
  private firstWindow?: ReturnType<SyncRun['startWindow']>;

  constructor(
    private readonly config: SyncJobConfig,
    private readonly deps: SyncRunDeps,
    readonly budget: RunBudget,
  ) {
    this.shard = deps.shard ?? UNSHARDED;
    this.owns = shardFilter(this.shard);
    this.store = new CheckpointStore(
      deps.control.client,
      config.serviceSid,
      deps.checkpointKey,
      deps.limiter,
      shardDocumentName(this.shard),
    );
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
   * Takes the lease and reads the service (at once); false when another run holds the lease. The first window's
   * reads start as soon as the checkpoint is read, beside the lease's save (one round trip sooner); nothing of it is
   * written, and no map touched, before the lease is held. Holding the lease when the service read fails, it hands
   * the lease back before throwing, so the next run need not wait for it to expire.
   */
  async begin(): Promise<boolean> {
    const { config, deps } = this;
    let leaseHeld!: (held: boolean) => void;
    this.leaseHeld = new Promise<boolean>((resolve) => (leaseHeld = resolve));
    // The other checkpoints (the main one, the shards') for the handover rules (shard-handover.ts).
    const others = Promise.allSettled([
      readCheckpointCursors(deps.control.client, {
        serviceSid: config.serviceSid,
        key: deps.checkpointKey,
        serverNow: () => this.serverNow(),
      }),
    ]).then(([result]) => result);
    let startState: Promise<CheckpointState> | undefined;
    const starting = Promise.allSettled([
      acquireLease(
        this.store,
        deps.runId,
        () => this.serverNow(),
        leaseMsFor(config.budgetMs),
        leaseMsFor(MAX_BUDGET_MS),
        (current) => {
          startState = others.then((othersResult) => this.startFrom(current.state, othersResult));
          startState.catch(() => undefined); // seen below, after the lease's save
        },
      ),
      deps.control.client.sync.v1.services(config.serviceSid).fetch(),
      others,
      // The maps there are, if few: the range reads of maps that are not there are left out (service-maps.ts).
      listServiceMaps(deps.control.client, config.serviceSid),
    ]);
    const results = await starting;
    const mapsAtStart = results[3].status === 'fulfilled' ? results[3].value : undefined;
    const [leaseResult, serviceResult] = [results[0], results[1]];
    /**
     * The run does not go on (the lease is another run's, or begin fails): the first window's reads are dropped, and
     * awaited, so that nothing outlives the run (a run that lost the race reads its first window to the end first).
     */
    const withoutLease = async () => {
      leaseHeld(false);
      await startState?.catch(() => undefined); // the first window is started by then, if it is started at all
      const first = this.firstWindow;
      this.firstWindow = undefined;
      if (typeof first === 'object') await first.read.catch(() => undefined);
    };
    if (leaseResult.status === 'rejected') {
      await withoutLease();
      throw leaseResult.reason;
    }
    const lease = leaseResult.value;
    if (!lease.ok) {
      await withoutLease();
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
      await withoutLease();
      await this.store
        .save({ ...lease.checkpoint.state, lease: null }, lease.checkpoint.revision)
        .catch(() => undefined);
      throw serviceResult.reason;
    }
    const aclEnabled = serviceResult.value.aclEnabled;
    // The lease's save changed only the lease: the start found before it (cursor, handover) stands.
    const { cursor } = await startState!.catch(async (error: unknown) => {
      await withoutLease(); // a bug: the run fails, and its lease expires on its own
      throw error;
    });
    this.state = { ...lease.checkpoint.state, cursor };
    this.failures = [...this.state.failures];
    this.attempts = { ...this.state.attempts };
    // The writer and the reconciler start no request after the writes' deadline.
    const writer = new RecentCallsWriter({
      client: deps.work.client,
      serviceSid: config.serviceSid,
      limiter: deps.limiter,
      concurrency: config.concurrency,
      perMapConcurrency: PER_MAP_CONCURRENCY,
      ttlDays: config.ttlDays,
      serverNow: () => this.serverNow(),
      aclEnabled,
      deadline: this.budget.writes,
      log: deps.log,
      identityOf: (workerSid) => this.identities?.get(workerSid),
    });
    // Records already in their maps (written by /taskrouter-events) are found with one range read per map, not rewritten.
    const reconciler = new Reconciler({
      client: deps.work.client,
      serviceSid: config.serviceSid,
      deadline: this.budget.writes,
      mapsAtStart,
    });
    this.started = { checkpoint: lease.checkpoint, aclEnabled, rejectedState: lease.rejectedState, writer, reconciler };
    leaseHeld(true);
    return true;
  }

  /**
   * Where the run starts, from the checkpoint as read (before the lease's save): the cursor (unless it is ahead of
   * Twilio's clock), moved by the handover; the window length; and the first window's reads, started at once.
   * Returns the state with the cursor the run starts from.
   */
  private startFrom(
    read: CheckpointState,
    others: PromiseSettledResult<Awaited<ReturnType<typeof readCheckpointCursors>>>,
  ): CheckpointState {
    let state = read;
    const trusted = trustedCursor(state.cursor, this.serverNow());
    if (trusted.ignored !== undefined) {
      this.deps.log.warn(
        "checkpoint cursor is ahead of Twilio's clock: ignored, starting from the oldest call inside the TTL",
        { cursor: trusted.ignored },
      );
      state = { ...state, cursor: null };
    }
    const adopted = this.handOver(trusted.cursorMs, others, state.cursor);
    if (adopted !== undefined && adopted !== trusted.cursorMs)
      state = { ...state, cursor: new Date(adopted).toISOString() };
    this.cursor = startCursor(adopted, this.serverNow(), this.config.ttlDays);
    this.windowMs = initialWindow(state.windowSeconds, this.maxWindowMs);
    this.firstWindow = this.startWindow();
    return state;
  }

  /**
   * Starts reading the next window: the one at the cursor, or (`after`) the one that follows `after`, read while
   * `after` is written (its length as if `after` finishes, not quickly: window-size.ts windowAhead). 'caught-up': no
   * settled events are left; 'no-time': the reads' budget is spent (and the window is no short catch-up at the
   * cursor that the writes' budget still has room for).
   */
  startWindow(after?: TimeWindow): PendingWindow | 'caught-up' | 'no-time' {
    const first = this.firstWindow;
    if (!after && first !== undefined) {
      this.firstWindow = undefined; // started by begin(), at the same cursor
      return first;
    }
    const fromMs = after ? after.toMs : this.cursor;
    const lengthMs = after ? windowAhead(this.windowMs, after, this.maxWindowMs) : this.windowMs;
    const window = nextWindow(fromMs, safeEnd(this.serverNow(), this.config.eventLagSeconds), lengthMs);
    if (!window) return 'caught-up';
    let reads = { pages: this.pages, deadline: this.budget.reads };
    if (this.budget.reads.expired()) {
      // Past the reads' deadline, only the seconds that settled while the run wrote are still read (at the cursor,
      // with what the writes' budget has left): the run can then answer done instead of needing another invocation.
      const catchUp =
        !after &&
        window.toMs - window.fromMs <= CATCH_UP_SPAN_MS &&
        this.budget.writes.remainingMs() >= CATCH_UP_MIN_REMAINING_MS;
      if (!catchUp) return 'no-time';
      this.catchUpPages ??= new PageBudget(this.budget.writes);
      reads = { pages: this.catchUpPages, deadline: this.budget.writes };
    }
    const firstOfRun = this.reads.windows === 0;
    this.reads.windows += 1;
    const read = this.read(window, firstOfRun, after !== undefined, reads);
    read.catch(() => undefined); // a window read ahead may be dropped unread; its failure is seen when awaited
    return { window, firstOfRun, startedAt: this.budget.work.now(), read };
  }

  /**
   * The run's own trusted cursor, moved forward to where the other checkpoints prove every call of its agents synced
   * (shard-handover.ts); the run's state takes it (startFrom), so the lease's release saves it. Without them (their
   * read failed) the run starts from its own: possibly further back, never past a call.
   */
  private handOver(
    ownMs: number | undefined,
    others: PromiseSettledResult<Awaited<ReturnType<typeof readCheckpointCursors>>>,
    ownCursor: string | null,
  ): number | undefined {
    if (others.status === 'rejected') {
      this.deps.log.warn('other checkpoints not read: no handover this run', {
        code: (others.reason as { code?: unknown }).code,
      });
      return ownMs;
    }
    const adopted = adoptCursor(ownMs, handoverCursor(others.value.cursors, this.shard));
    if (adopted !== undefined && adopted !== ownMs) {
      this.deps.log.info('checkpoint handover: starting where other checkpoints prove every call synced', {
        from: ownCursor,
        to: new Date(adopted).toISOString(),
      });
    }
    return adopted;
  }

  /**
   * Every read of a window: its completions and calls, the worker identities (once, if needed), and what is in the
   * maps already: the range reads start as soon as the completions are known, beside the Calls list. `ahead`: read
   * while another window is written (its range reads then leave the writes their sockets).
   */
  private async read(
    window: TimeWindow,
    firstOfRun: boolean,
    ahead: boolean,
    budget: { pages: PageBudget; deadline: Deadline },
  ): Promise<WindowReadWithLookup> {
    const { config, deps } = this;
    const readers = ahead ? READ_CONCURRENCY : Math.max(READ_CONCURRENCY, config.concurrency);
    let found: Promise<FoundEntries> | undefined;
    try {
      const read = await readWindow(
        {
          client: deps.work.client,
          workspaceSid: config.workspaceSid,
          pages: budget.pages,
          deadline: budget.deadline,
          log: deps.log,
          reads: this.reads,
          shortestWindow: this.windowMs <= MIN_WINDOW_MS,
          ...(isSharded(this.shard) ? { owns: this.owns, countsSharedEvents: countsSharedEvents(this.shard) } : {}),
          // The first window's reads may start before the lease is held: its maps are looked at only once it is.
          onCompletions: (completions) => {
            const lookup = this.leaseHeld.then((held) => {
              if (!held) throw windowDropped();
              const toPrepare = ahead ? [] : this.mapsToPrepare(completions);
              // While maps are prepared, the range reads take only their own share of the pool (job.ts workSockets).
              const keys = this.run.reconciler.lookupKeys(
                completions,
                toPrepare.length > 0 ? READ_CONCURRENCY : readers,
              );
              // Not awaited: the window's write stops it and takes over what is left.
              if (toPrepare.length > 0) void this.run.writer.prepareMaps(toPrepare);
              return keys;
            });
            lookup.catch(() => undefined); // awaited below, whichever way the read ends
            found = lookup;
          },
        },
        window,
        firstOfRun,
      );
      if (read.kind !== 'read' || !(await this.leaseHeld)) {
        await found?.catch(() => undefined); // the window is not written: what its reads found is not needed
        if (read.kind !== 'read') return read;
        throw windowDropped();
      }
      const { records } = read;
      if (this.run.aclEnabled && this.identities === undefined && records.some((r) => !r.identity)) {
        this.identities = await readWorkerIdentities(deps.control.client, {
          workspaceSid: config.workspaceSid,
          maxWorkers: MAX_WORKERS,
        });
      }
      // Started when the completions were read (readWindow says so before it waits for the Calls list).
      found ??= this.run.reconciler.lookupKeys(records, readers);
      return { ...read, lookup: (await found).indexesOf(records) };
    } catch (error) {
      await found?.catch(() => undefined); // a read that failed: its range reads end before the run answers
      throw error;
    }
  }

  /**
   * With nothing being written (a window read at the cursor), the maps its completions need and are known to lack are
   * created (and granted) while its Calls list is read, instead of before its first items. Only for calls well inside
   * the TTL: an older one may turn out not to be written at all, and its map is then not created.
   */
  private mapsToPrepare(completions: readonly Completion[]): Completion[] {
    const { reconciler } = this.run;
    const oldest = this.serverNow() - this.maxWindowMs + DAY_MS;
    return completions.filter((c) => c.taskCreatedMs > oldest && reconciler.isKnownAbsent(c.workerSid));
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

  /** Whether the window has records to write (then the next window is worth reading meanwhile). */
  hasWrites(read: WindowReadDone): boolean {
    return read.records.length > read.lookup.present.size;
  }

  /**
   * Writes the window's records and commits their outcomes (counts, attempts, failures, next window length).
   * `likelyToFinish` is called (once) as soon as the writes look like ending within the budget (run-budget.ts).
   */
  async apply(pending: PendingWindow, read: WindowReadDone, likelyToFinish?: () => void): Promise<WindowCommit> {
    const { config, deps } = this;
    const { window } = pending;
    const { writer, reconciler } = this.run;
    // A window read ahead starts to count when the one before it is written.
    const windowStartedAt = Math.max(pending.startedAt, this.lastWritesEnd);
    countWindow(read, this.counts, this.reads);
    const { records } = read;
    const writesStartedAt = this.budget.writes.now();
    let told = likelyToFinish === undefined;
    const progress = (ended: number, total: number) => {
      if (told) return;
      const { writes } = this.budget;
      const elapsedMs = writes.now() - writesStartedAt;
      const remainingMs = writes.remainingMs();
      if (!writesLikelyToFinish({ ended, total, elapsedMs, remainingMs, sample: config.concurrency })) return;
      told = true;
      likelyToFinish?.();
    };
    progress(0, records.length - read.lookup.present.size);
    const written = await reconciler.writeMissing(writer, records, read.lookup, progress);
    this.lastWritesEnd = this.budget.work.now();
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
    // Failed for good (a 4xx: a refused grant, an item Sync will not take) and passed: one error line per window.
    const passed = commit.failures.filter((f) => !f.code.startsWith('GAVE_UP_'));
    if (passed.length > 0) {
      deps.log.error('recent calls failed permanently: passed (recorded in the checkpoint)', {
        count: passed.length,
        codes: [...new Set(passed.map((f) => f.code))],
        keys: passed.slice(0, MAX_KEYS_LOGGED).map((f) => ({ workerSid: f.workerSid, key: f.key })),
      });
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
      empty: read.events === 0,
      elapsedMs: this.lastWritesEnd - windowStartedAt,
      budgetMs: config.budgetMs,
      maxMs: this.maxWindowMs,
    });
    return commit;
  }

  /**
   * Saves the cursor a window committed, after the saves before it (If-Match on the revision the last one wrote);
   * the run goes on meanwhile. False when a save before it found the checkpoint moved by another run (this run must
   * stop); a save that failed is thrown here (or by `saved`).
   */
  advance(commit: WindowCommit): boolean {
    if (this.saveError !== undefined) throw this.saveError;
    if (this.lostLease) return false;
    this.cursor = commit.cursorMs;
    const next: CheckpointState = {
      ...this.state,
      cursor: new Date(commit.cursorMs).toISOString(),
      windowSeconds: Math.round(this.windowMs / 1000),
      updatedAt: new Date(this.serverNow()).toISOString(),
      failures: this.failures.slice(-MAX_FAILURES),
      attempts: boundAttempts(this.attempts, commit.cursorMs),
    };
    this.saving = this.saving.then(async () => {
      if (this.lostLease || this.saveError !== undefined) return;
      await this.save(next).catch((error: unknown) => {
        this.saveError = error;
      });
    });
    return true;
  }

  /** Waits for the saves started so far: false when the checkpoint was moved by another run; throws a failed save. */
  async saved(): Promise<boolean> {
    await this.saving;
    if (this.saveError !== undefined) throw this.saveError;
    return !this.lostLease;
  }

  /**
   * The invocation's answer; the lease is released with it (unless another run took the checkpoint). `caughtUp`:
   * the run read every settled event; `stoppedBy`: the error that ended the run's windows early, if one did.
   */
  async finish(caughtUp: boolean, stoppedBy: unknown): Promise<JobSummary> {
    const { deps } = this;
    // A window that was not written (it did not fit) may have left maps being prepared: nothing outlives the run.
    await this.started?.writer.endPreparation();
    await this.saving;
    const summary: JobSummary = {
      done: caughtUp && !this.lostLease && stoppedBy === undefined,
      ...runTotals(this.counts),
      remaining: this.remaining,
      remainingExact: false,
      syncedThrough: this.state.cursor,
      ...(isSharded(this.shard) ? { shard: shardLabel(this.shard) } : {}),
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
    const line = summaryLine({
      summary,
      counts: this.counts,
      reads: this.reads,
      metrics: [this.deps.work.http.metrics, this.deps.control.http.metrics],
      stats: { ...this.started?.writer.stats, ...this.started?.reconciler.stats },
      lostLease: this.lostLease,
      elapsedMs,
      failure,
    });
    return { ...line, shard: shardLabel(this.shard) };
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
