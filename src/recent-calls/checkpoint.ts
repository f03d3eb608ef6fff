/**
 * The job's progress, in one Sync Document (`CHECKPOINT_DOCUMENT_NAME`), changed only with If-Match on its revision.
 *
 * - `cursor`: every completion with an event time before it is committed (see window.ts).
 * - `lease`: the run that currently works. A run takes the lease with If-Match before it writes anything, and every
 *   later save is conditional on the revision it last wrote, so of two overlapping runs only one can advance the
 *   cursor; the other stops at its first save (412) having only written items that are idempotent anyway. A lease
 *   expires on its own (a run killed at the 10 s limit cannot release it).
 * - `attempts`: for records that failed retryably, in how many runs they failed (event SID → runs, and the event's
 *   time). A record that keeps failing is given up after a few runs (recorded in `failures`), so that no record
 *   blocks the cursor forever.
 *
 * The document lives in the same Sync service as the agents' maps, so its content is not trusted blindly:
 * - every save carries a seal (an HMAC keyed from a secret only the functions hold, checkpoint-seal.ts); a state
 *   whose seal does not verify, lease included, is ignored as if there were none, and a save that finds such a
 *   state in its way (412) overwrites it instead of stopping, so a forger rewriting the document cannot stall the job;
 * - and even a sealed state is checked: a lease that ends later than any run could have taken it is ignored, and so
 *   is a cursor ahead of Twilio's clock (see `acquireLease` and `trustedCursor`); stored values are read tolerantly
 *   and bounded (`readState`).
 */
import { randomUUID } from 'node:crypto';
import type { Twilio } from 'twilio';
import { hasStatus, hasTwilioCode } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { canonicalJson, sealMatches, sealOf } from './checkpoint-seal';
import { CHECKPOINT_DOCUMENT_NAME } from './map-name';

export interface CheckpointFailure {
  /** The item key of the record (item-key.ts). */
  key: string;
  callSid: string | null;
  workerSid: string;
  code: string;
  at: string;
}

export interface CheckpointState {
  v: 1;
  /** ISO 8601 with ms; null before the first committed window. */
  cursor: string | null;
  windowSeconds: number | null;
  lease: { owner: string; until: string } | null;
  updatedAt: string | null;
  /** Last permanent failures (newest last, at most MAX_FAILURES), for operators. */
  failures: CheckpointFailure[];
  lastRun: Record<string, number | string | boolean> | null;
  /** A nonce per save: tells our own write (whose answer was lost) from another run's after a 412. */
  writeId: string | null;
  /**
   * Records that failed retryably and are not committed yet: event SID → runs in which they failed and the event's
   * time (at most MAX_ATTEMPT_ENTRIES, the earliest: the one holding the cursor is among them).
   */
  attempts: Record<string, RecordAttempts>;
}

export interface RecordAttempts {
  runs: number;
  /** The completion event's time (ISO 8601): entries behind the cursor are dropped. */
  at: string;
}

export const MAX_FAILURES = 20;
export const MAX_ATTEMPT_ENTRIES = 50;
/** Any run's lease ends within this of its start: the largest budget plus the lease margin plus clock slack. */
const CLOCK_SLACK_MS = 2000;
/** A cursor may be this far ahead of this run's estimate of Twilio's clock (estimates differ by ~1 s + latency). */
const CURSOR_SLACK_MS = 5000;

export const EMPTY_STATE: CheckpointState = {
  v: 1,
  cursor: null,
  windowSeconds: null,
  lease: null,
  updatedAt: null,
  failures: [],
  lastRun: null,
  writeId: null,
  attempts: {},
};

export interface Checkpoint {
  state: CheckpointState;
  revision: string;
  /** The stored state failed its seal check and was replaced by EMPTY_STATE: no seal, or a seal that does not match. */
  rejected?: SealFailure;
}

export type SealFailure = 'unsealed' | 'tampered';

/** A save overwrites at most this many forged states in a row before it reports a conflict. */
const MAX_FORGED_OVERWRITES = 3;

/** Reads stored data tolerantly (a document written by an older or newer version, or by hand). */
export function readState(data: unknown): CheckpointState {
  const d = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  const iso = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null);
  const lease = d.lease as { owner?: unknown; until?: unknown } | null | undefined;
  return {
    v: 1,
    cursor: iso(d.cursor),
    windowSeconds: typeof d.windowSeconds === 'number' && d.windowSeconds > 0 ? d.windowSeconds : null,
    lease:
      lease && typeof lease.owner === 'string' && iso(lease.until)
        ? { owner: lease.owner, until: iso(lease.until)! }
        : null,
    updatedAt: iso(d.updatedAt),
    failures: Array.isArray(d.failures) ? d.failures.filter(isFailure).slice(-MAX_FAILURES) : [],
    lastRun: readLastRun(d.lastRun),
    writeId: typeof d.writeId === 'string' ? d.writeId : null,
    attempts: readAttempts(d.attempts),
  };
}

function isFailure(value: unknown): value is CheckpointFailure {
  const f = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  return ['callSid', 'workerSid', 'code', 'at'].every(
    (key) => typeof f[key] === 'string' && (f[key] as string).length <= 200,
  );
}

/** The last run's summary fields: flat, primitive values only. */
function readLastRun(value: unknown): CheckpointState['lastRun'] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const out: Record<string, number | string | boolean> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>).slice(0, 50)) {
    if (typeof item === 'number' || typeof item === 'string' || typeof item === 'boolean') out[key] = item;
  }
  return out;
}

function readAttempts(value: unknown): Record<string, RecordAttempts> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const entries: Array<[string, RecordAttempts]> = [];
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    const { runs, at } = (entry && typeof entry === 'object' ? entry : {}) as { runs?: unknown; at?: unknown };
    if (key.length === 0 || key.length > 64) continue;
    if (typeof runs !== 'number' || !Number.isInteger(runs) || runs < 1 || runs > 1000) continue;
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) continue;
    entries.push([key, { runs, at }]);
  }
  return boundAttempts(Object.fromEntries(entries));
}

export function cursorMs(state: CheckpointState): number | undefined {
  return state.cursor === null ? undefined : Date.parse(state.cursor);
}

/**
 * The stored cursor, unless it is ahead of Twilio's clock: no run ever saves a cursor past `now - lag`, so such a
 * cursor was written by someone else, and trusting it would silently skip every call before it. It is then ignored
 * (the run starts over from the oldest call inside the TTL: writes are idempotent, nothing is lost).
 */
export function trustedCursor(
  state: CheckpointState,
  serverNowMs: number,
): { cursorMs: number | undefined; ignored?: string } {
  const ms = cursorMs(state);
  if (ms === undefined || !Number.isFinite(ms)) return { cursorMs: undefined };
  if (ms > serverNowMs + CURSOR_SLACK_MS) return { cursorMs: undefined, ignored: state.cursor ?? undefined };
  return { cursorMs: ms };
}

/** The latest `lease.until` any run can have set `now` (ms): a later one was not written by a run. */
export function latestPlausibleLeaseEnd(nowMs: number, maxLeaseMs: number): number {
  return nowMs + maxLeaseMs + CLOCK_SLACK_MS;
}

function isMissing(error: unknown): boolean {
  return hasTwilioCode(error, 20404) || hasTwilioCode(error, 54100) || hasStatus(error, 404);
}

function isConflict(error: unknown): boolean {
  return hasStatus(error, 412) || hasTwilioCode(error, 54103);
}

export type SaveResult = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: 'conflict' };

export class CheckpointStore {
  /** How many forged states (failing their seal) this store has met: ignored on load, or overwritten by a save. */
  forgeries = 0;

  constructor(
    private readonly client: Twilio,
    private readonly serviceSid: string,
    /** The seal key (checkpointKey): only states sealed with it are trusted. */
    private readonly key: Buffer,
    private readonly limiter?: ObjectRateLimiter,
    readonly name = CHECKPOINT_DOCUMENT_NAME,
  ) {}

  private get documents() {
    return this.client.sync.v1.services(this.serviceSid).documents;
  }

  private get scope(): string {
    return `${this.serviceSid}/${this.name}`;
  }

  /** The document's data for `state`: the state as readState will read it back, and its seal. */
  private sealed(state: CheckpointState): Record<string, unknown> {
    const read = readState(state);
    return { ...read, seal: sealOf(this.key, this.scope, read) };
  }

  /** The stored state if its seal verifies; else EMPTY_STATE, saying why. */
  private open(data: unknown, revision: string): Checkpoint {
    const state = readState(data);
    const seal = data && typeof data === 'object' ? (data as Record<string, unknown>).seal : undefined;
    if (sealMatches(this.key, this.scope, state, seal)) return { state, revision };
    // An unsealed empty state (as `npm run setup` creates it) says nothing a run could be misled by.
    if (seal === undefined && canonicalJson(state) === canonicalJson(EMPTY_STATE))
      return { state: EMPTY_STATE, revision };
    this.forgeries += 1;
    return { state: EMPTY_STATE, revision, rejected: seal === undefined ? 'unsealed' : 'tampered' };
  }

  async load(): Promise<Checkpoint | undefined> {
    try {
      const doc = await this.documents(this.name).fetch();
      return this.open(doc.data, doc.revision);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Loads the checkpoint, creating it (empty) the first time; a concurrent creator's document is used as is. */
  async loadOrCreate(): Promise<Checkpoint> {
    const existing = await this.load();
    if (existing) return existing;
    try {
      await this.limiter?.acquire(this.name);
      const doc = await this.documents.create({ uniqueName: this.name, data: this.sealed(EMPTY_STATE) });
      return this.open(doc.data, doc.revision);
    } catch (error) {
      if (!hasTwilioCode(error, 54301)) throw error;
      const created = await this.load();
      if (!created) throw error;
      return created;
    }
  }

  /**
   * Saves `state` only if the document is still at `revision`; a 412 means another run moved it, unless the document
   * holds this very write (the update was applied, its answer lost, and the retry found the revision moved on), or a
   * state that fails its seal: no run wrote that, so it is overwritten (a few times at most) rather than obeyed.
   */
  async save(state: CheckpointState, revision: string): Promise<SaveResult> {
    const data = this.sealed({ ...state, writeId: randomUUID() });
    let ifMatch = revision;
    for (let overwrites = 0; ; overwrites++) {
      try {
        await this.limiter?.acquire(this.name);
        const doc = await this.documents(this.name).update({ data, ifMatch });
        return { ok: true, checkpoint: this.open(doc.data, doc.revision) };
      } catch (error) {
        if (!isConflict(error)) throw error;
        const current = await this.load();
        if (current && !current.rejected && current.state.writeId === data.writeId)
          return { ok: true, checkpoint: current };
        if (!current?.rejected || overwrites >= MAX_FORGED_OVERWRITES) return { ok: false, reason: 'conflict' };
        ifMatch = current.revision;
      }
    }
  }
}

export type LeaseResult =
  | {
      ok: true;
      checkpoint: Checkpoint;
      /** Another holder's lease that was ignored because no run could have set it (it ended too far ahead). */
      ignoredLease?: { owner: string; until: string };
      /** The stored state (lease and cursor included) failed its seal check and was ignored. */
      rejectedState?: SealFailure;
    }
  | { ok: false; reason: 'busy' | 'conflict'; until?: string };

/**
 * Takes the lease for `owner` for `leaseMs`, unless another run holds an unexpired one (`nowMs`: Twilio's clock).
 * A lease ending more than `maxLeaseMs` (the longest lease any run takes) from now is not a run's: it is ignored,
 * so that a forged `until` far ahead cannot keep the job busy forever. A state that failed its seal check has been
 * replaced by EMPTY_STATE already (no lease): the run takes the lease over it.
 */
export async function acquireLease(
  store: Pick<CheckpointStore, 'loadOrCreate' | 'save'>,
  owner: string,
  nowMs: () => number,
  leaseMs: number,
  maxLeaseMs: number = leaseMs,
): Promise<LeaseResult> {
  const current = await store.loadOrCreate();
  const lease = current.state.lease;
  const now = nowMs(); // read after a response: the server clock is known by now
  const until = lease ? Date.parse(lease.until) : Number.NaN;
  const forged = lease !== null && until > latestPlausibleLeaseEnd(now, Math.max(leaseMs, maxLeaseMs));
  if (lease && !forged && lease.owner !== owner && until > now)
    return { ok: false, reason: 'busy', until: lease.until };
  const saved = await store.save(
    { ...current.state, lease: { owner, until: new Date(now + leaseMs).toISOString() } },
    current.revision,
  );
  if (!saved.ok) return { ok: false, reason: 'conflict' };
  return {
    ...saved,
    ...(forged && lease ? { ignoredLease: lease } : {}),
    ...(current.rejected ? { rejectedState: current.rejected } : {}),
  };
}

/** A record failing retryably for another reason (not an answer from Twilio) is given up after this many runs. */
export const GIVE_UP_AFTER_RUNS = 5;
/** A record failing with 429 (after the retries), or with 5xx / network errors, is given up after this many runs. */
export const GIVE_UP_TRANSIENT_AFTER_RUNS = 10;

/**
 * One more run in which a record failed retryably: the runs it has now failed in, and whether to give it up (treat
 * it as failed permanently, so the cursor can pass it).
 * - `throttled` (429 after the retries) is about the record's map (Sync limits writes per object): it counts.
 * - `unavailable` (5xx, network) is about Twilio: it counts only in a run in which Twilio took other writes
 *   (`runWroteOthers`), because in an outage every record fails and giving them up would lose them.
 * - anything else (`unexpected`) counts, and is given up sooner.
 */
export function recordAttempt(
  previousRuns: number | undefined,
  failure: { cause?: string },
  runWroteOthers: boolean,
): { runs: number; giveUp: boolean } {
  const before = previousRuns ?? 0;
  const runs = failure.cause === 'unavailable' && !runWroteOthers ? before : before + 1;
  const limit =
    failure.cause === 'throttled' || failure.cause === 'unavailable'
      ? GIVE_UP_TRANSIENT_AFTER_RUNS
      : GIVE_UP_AFTER_RUNS;
  return { runs, giveUp: runs >= limit };
}

/**
 * `attempts` without the entries behind `cursorMs` (committed, or skipped as older than the TTL), bounded to the
 * MAX_ATTEMPT_ENTRIES earliest (the record that holds the cursor is the earliest uncommitted one).
 */
export function boundAttempts(
  attempts: Record<string, RecordAttempts>,
  cursorMs = Number.NEGATIVE_INFINITY,
): Record<string, RecordAttempts> {
  const entries = Object.entries(attempts)
    .filter(([, a]) => Date.parse(a.at) >= cursorMs)
    .sort(([, a], [, b]) => Date.parse(a.at) - Date.parse(b.at));
  return Object.fromEntries(entries.slice(0, MAX_ATTEMPT_ENTRIES));
}
