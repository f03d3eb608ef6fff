/**
 * The give-up policy: a record that fails retryably keeps the cursor before it, so the next run retries it; one that
 * fails run after run is given up (recorded like a permanent failure) after a few runs, so that no record can hold
 * the cursor forever. The checkpoint remembers, per such record, in how many runs it failed (`attempts`).
 */

/** A record that failed retryably and is not committed yet: the runs in which it failed, and the event's time. */
export interface RecordAttempts {
  runs: number;
  /** The completion event's time (ISO 8601): entries behind the cursor are dropped. */
  at: string;
}

/** A record failing retryably for another reason (not an answer from Twilio) is given up after this many runs. */
export const GIVE_UP_AFTER_RUNS = 5;
/** A record failing with 429 (after the retries), or with 5xx / network errors, is given up after this many runs. */
export const GIVE_UP_TRANSIENT_AFTER_RUNS = 10;
/** The checkpoint keeps at most this many attempt entries (the earliest: the one holding the cursor is among them). */
export const MAX_ATTEMPT_ENTRIES = 50;

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

/** The longest key of a stored attempt entry (an event SID is 34 characters). */
export const MAX_ATTEMPT_KEY_LENGTH = 64;
/** The most runs a stored attempt entry may claim (more is not a count any run wrote). */
export const MAX_ATTEMPT_RUNS = 1000;

/** Stored attempts read tolerantly: malformed entries dropped, the rest bounded (boundAttempts). */
export function readAttempts(value: unknown): Record<string, RecordAttempts> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const entries: Array<[string, RecordAttempts]> = [];
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    const { runs, at } = (entry && typeof entry === 'object' ? entry : {}) as { runs?: unknown; at?: unknown };
    if (key.length === 0 || key.length > MAX_ATTEMPT_KEY_LENGTH) continue;
    if (typeof runs !== 'number' || !Number.isInteger(runs) || runs < 1 || runs > MAX_ATTEMPT_RUNS) continue;
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) continue;
    entries.push([key, { runs, at }]);
  }
  return boundAttempts(Object.fromEntries(entries));
}
