/** What a window's write outcomes commit (pure): final outcomes, give-ups, attempt entries, failures, the cursor. */
import fc from 'fast-check';
import { GIVE_UP_AFTER_RUNS, GIVE_UP_TRANSIENT_AFTER_RUNS } from '../../../src/recent-calls/attempts';
import { commitWindow } from '../../../src/recent-calls/window-commit';
import { isCommitted, type WriteOutcome } from '../../../src/recent-calls/writer';
import { down, iso, odd, refused, throttled, window, windowOf, written } from './window-fixtures';

describe('commitWindow', () => {
  it('every record committed: the cursor moves to the window end, nothing remains, no attempts kept', () => {
    const { completions, records } = windowOf(3);
    const commit = commitWindow({
      window,
      completions,
      records,
      written: [written, { kind: 'exists' }, { kind: 'old' }],
      attempts: { [records[1].eventSid]: { runs: 2, at: iso(records[1].eventDateMs) } },
    });
    expect(commit).toMatchObject({ cursorMs: window.toMs, remaining: 0, attempts: {}, failures: [], givenUp: [] });
  });

  it('a retryable failure holds the cursor at its event and is counted in attempts; later records still commit', () => {
    const { completions, records } = windowOf(3);
    const commit = commitWindow({ window, completions, records, written: [written, throttled, written], attempts: {} });
    expect(commit.cursorMs).toBe(records[1].eventDateMs);
    expect(commit.remaining).toBe(1);
    expect(commit.attempts).toEqual({ [records[1].eventSid]: { runs: 1, at: iso(records[1].eventDateMs) } });
    expect(commit.outcomes).toEqual([written, throttled, written]);
  });

  it('a permanent failure is committed (passed) and recorded for operators', () => {
    const { completions, records } = windowOf(2);
    const commit = commitWindow({ window, completions, records, written: [refused, written], attempts: {} });
    expect(commit.cursorMs).toBe(window.toMs);
    expect(commit.failures).toEqual([
      {
        key: records[0].itemKey,
        callSid: records[0].callSid,
        workerSid: records[0].workerSid,
        code: '54006',
        at: iso(records[0].eventDateMs),
      },
    ]);
  });

  it(`gives up an unexpected failure in its ${GIVE_UP_AFTER_RUNS}th run and a 429 in its ${GIVE_UP_TRANSIENT_AFTER_RUNS}th: passed, recorded GAVE_UP_<code>`, () => {
    const { completions, records } = windowOf(2);
    const at = (i: number) => iso(records[i].eventDateMs);
    const before = (runs: [number, number]) => ({
      [records[0].eventSid]: { runs: runs[0], at: at(0) },
      [records[1].eventSid]: { runs: runs[1], at: at(1) },
    });
    const notYet = commitWindow({ window, completions, records, written: [odd, throttled], attempts: before([3, 8]) });
    expect(notYet.givenUp).toEqual([]);
    expect(notYet.attempts).toEqual(before([4, 9]));
    expect(notYet.cursorMs).toBe(records[0].eventDateMs);

    const commit = commitWindow({ window, completions, records, written: [odd, throttled], attempts: before([4, 9]) });
    expect(commit.givenUp.map((g) => [g.record.eventSid, g.code, g.runs])).toEqual([
      [records[0].eventSid, 'UNEXPECTED', 5],
      [records[1].eventSid, '54009', 10],
    ]);
    expect(commit.outcomes).toEqual([
      { kind: 'failed', retryable: false, code: 'GAVE_UP_UNEXPECTED' },
      { kind: 'failed', retryable: false, code: 'GAVE_UP_54009' },
    ]);
    expect(commit.failures.map((f) => f.code)).toEqual(['GAVE_UP_UNEXPECTED', 'GAVE_UP_54009']);
    expect(commit).toMatchObject({ attempts: {}, remaining: 0, cursorMs: window.toMs });
  });

  it('a 5xx counts as an attempt only when Twilio took other writes in the window (an outage gives nothing up)', () => {
    const { completions, records } = windowOf(2);
    const attempts = { [records[0].eventSid]: { runs: 9, at: iso(records[0].eventDateMs) } };
    const outage = commitWindow({ window, completions, records, written: [down, down], attempts });
    expect(outage.givenUp).toEqual([]);
    expect(outage.attempts).toEqual(attempts); // the second record has no entry: 0 runs are not stored
    const singled = commitWindow({ window, completions, records, written: [down, { kind: 'exists' }], attempts });
    expect(singled.givenUp).toHaveLength(1);
  });

  it('completions without a record (a repeated event) do not hold the cursor', () => {
    const { completions, records } = windowOf(2);
    const repeated = { ...completions[1], eventSid: 'EV-repeat', eventDateMs: completions[1].eventDateMs + 1 };
    const commit = commitWindow({
      window,
      completions: [...completions, repeated],
      records,
      written: [written, written],
      attempts: {},
    });
    expect(commit.cursorMs).toBe(window.toMs);
  });

  it('not attempted (the budget ran out): holds the cursor, remains, is no attempt', () => {
    const { completions, records } = windowOf(2);
    const commit = commitWindow({
      window,
      completions,
      records,
      written: [written, { kind: 'not-attempted' }],
      attempts: {},
    });
    expect(commit).toMatchObject({ cursorMs: records[1].eventDateMs, remaining: 1, attempts: {} });
  });

  it('never passes uncommitted work, whatever the outcomes; remaining counts exactly the uncommitted', () => {
    const outcome = fc.constantFrom<WriteOutcome>(written, throttled, down, odd, refused, { kind: 'not-attempted' });
    fc.assert(
      fc.property(
        fc.array(outcome, { maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 20 }),
        (outs, runs) => {
          const { completions, records } = windowOf(outs.length);
          const attempts = Object.fromEntries(
            records.flatMap((r, i) => (runs[i] ? [[r.eventSid, { runs: runs[i], at: iso(r.eventDateMs) }]] : [])),
          );
          const commit = commitWindow({ window, completions, records, written: outs, attempts });
          const held = records.filter((r, i) => r.eventDateMs < commit.cursorMs && !isCommitted(commit.outcomes[i]));
          return (
            held.length === 0 &&
            commit.remaining === commit.outcomes.filter((o) => !isCommitted(o)).length &&
            commit.remaining > 0 === commit.cursorMs < window.toMs
          );
        },
      ),
    );
  });
});
