/**
 * What a window's write outcomes commit (pure): each record's final outcome (a record failing retryably run after
 * run is given up, attempts.ts), the attempt entries and permanent failures the checkpoint keeps, how many records
 * are still waiting, and where the cursor moves (cursor.ts commitCursor: never past uncommitted work).
 */
import { recordAttempt, type RecordAttempts } from './attempts';
import type { CallRecord } from './call-record';
import type { CheckpointFailure } from './checkpoint-state';
import { commitCursor, type TimeWindow } from './cursor';
import type { Completion } from './events-source';
import { isCommitted, type WriteOutcome } from './writer';

/** A record given up in this window: it failed retryably in `runs` runs. */
export interface GivenUp {
  record: CallRecord;
  code: string;
  runs: number;
}

export interface WindowCommit {
  /** One final outcome per record, in the records' order (a given-up record: failed permanently, GAVE_UP_<code>). */
  outcomes: WriteOutcome[];
  givenUp: GivenUp[];
  /** The attempt entries after this window (the input's, updated). */
  attempts: Record<string, RecordAttempts>;
  /** Permanent failures of this window, for the checkpoint's `failures`. */
  failures: CheckpointFailure[];
  /** Records not committed (failed retryably, or not attempted). */
  remaining: number;
  cursorMs: number;
}

/**
 * Commits a window: `records` (in commit order) with `written[i]` the writer's outcome of `records[i]`;
 * `completions`, every completion read in the window (sorted by event time; those without a record, such as a
 * repeated event, are committed with the first completion of their call, which sorts before them).
 */
export function commitWindow(input: {
  window: TimeWindow;
  completions: readonly Completion[];
  records: readonly CallRecord[];
  written: readonly WriteOutcome[];
  attempts: Readonly<Record<string, RecordAttempts>>;
}): WindowCommit {
  const { records, written } = input;
  const attempts = { ...input.attempts };
  // Twilio took writes in this window: a record failing with 5xx here is singled out, not an outage.
  const wroteOthers = written.some((o) => o.kind === 'written' || o.kind === 'exists');
  const outcomeOf = new Map<string, WriteOutcome>();
  const givenUp: GivenUp[] = [];
  const failures: CheckpointFailure[] = [];
  const outcomes = records.map((record, i) => {
    let outcome = written[i];
    if (outcome.kind === 'failed' && outcome.retryable) {
      const attempt = recordAttempt(attempts[record.eventSid]?.runs, outcome, wroteOthers);
      if (attempt.giveUp) {
        givenUp.push({ record, code: outcome.code, runs: attempt.runs });
        outcome = { kind: 'failed', retryable: false, code: `GAVE_UP_${outcome.code}` };
      } else if (attempt.runs > 0) {
        attempts[record.eventSid] = { runs: attempt.runs, at: new Date(record.eventDateMs).toISOString() };
      }
    }
    if (isCommitted(outcome)) delete attempts[record.eventSid];
    outcomeOf.set(record.eventSid, outcome);
    if (outcome.kind === 'failed' && !outcome.retryable) {
      failures.push({
        key: record.itemKey,
        callSid: record.callSid,
        workerSid: record.workerSid,
        code: outcome.code,
        at: new Date(record.eventDateMs).toISOString(),
      });
    }
    return outcome;
  });
  const cursorMs = commitCursor(
    input.completions,
    (c) => !outcomeOf.has(c.eventSid) || isCommitted(outcomeOf.get(c.eventSid)),
    input.window,
  );
  return {
    outcomes,
    givenUp,
    attempts,
    failures,
    remaining: outcomes.filter((o) => !isCommitted(o)).length,
    cursorMs,
  };
}
