/**
 * What the job's checkpoint holds, and how stored data is read back. The document lives in the same Sync service as
 * the agents' maps, so its content is read tolerantly and bounded (a document written by an older or newer version,
 * by hand, or by someone else): `readState` never throws and keeps only values of the expected shape.
 *
 * - `cursor`: every completion with an event time before it is committed (cursor.ts).
 * - `lease`: the run that currently works (lease.ts).
 * - `attempts`: records that failed retryably, and in how many runs (attempts.ts).
 * - `failures`: the last permanent failures, for operators.
 */
import { readAttempts, type RecordAttempts } from './attempts';

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

export const MAX_FAILURES = 20;
/** The longest string field of a stored failure entry. */
const MAX_FAILURE_FIELD_LENGTH = 200;
/** The most fields of a stored last-run summary. */
const MAX_LAST_RUN_FIELDS = 50;

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
  const isField = (v: unknown) => typeof v === 'string' && v.length <= MAX_FAILURE_FIELD_LENGTH;
  // An outbound call may have no call SID: its failure is stored with `callSid: null`.
  return (
    ['key', 'workerSid', 'code', 'at'].every((key) => isField(f[key])) && (f.callSid === null || isField(f.callSid))
  );
}

/** The last run's summary fields: flat, primitive values only. */
function readLastRun(value: unknown): CheckpointState['lastRun'] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const out: Record<string, number | string | boolean> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>).slice(0, MAX_LAST_RUN_FIELDS)) {
    if (typeof item === 'number' || typeof item === 'string' || typeof item === 'boolean') out[key] = item;
  }
  return out;
}

/** The stored cursor in ms, undefined before the first committed window. */
export function cursorMs(state: CheckpointState): number | undefined {
  return state.cursor === null ? undefined : Date.parse(state.cursor);
}
