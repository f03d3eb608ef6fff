/** commitWindow at its edges: what counts as Twilio taking other writes, and records that had attempts before. */
import { commitWindow } from '../../../src/recent-calls/window-commit';
import { down, iso, refused, window, windowOf } from './window-fixtures';

const { completions, records } = windowOf(2, { withCallSid: true });
const [first, second] = records;

describe('commitWindow at the edges', () => {
  it('counts an item that already existed as Twilio taking writes: a record failing with 5xx then counts its run', () => {
    const commit = commitWindow({
      window,
      completions,
      records,
      written: [{ kind: 'exists' }, down],
      attempts: { [second.eventSid]: { runs: 9, at: iso(second.eventDateMs) } },
    });
    // Its tenth counted run: given up, so the cursor can pass it.
    expect(commit.givenUp).toEqual([{ record: second, code: 'HTTP_503', runs: 10 }]);
    expect(commit.outcomes[1]).toEqual({ kind: 'failed', retryable: false, code: 'GAVE_UP_HTTP_503' });
    expect(commit.cursorMs).toBe(window.toMs);
  });

  it('counts a written item the same way', () => {
    const commit = commitWindow({
      window,
      completions,
      records,
      written: [{ kind: 'written' }, down],
      attempts: { [second.eventSid]: { runs: 9, at: iso(second.eventDateMs) } },
    });
    expect(commit.givenUp).toEqual([{ record: second, code: 'HTTP_503', runs: 10 }]);
  });

  it('in an outage (no write taken) the same run does not count', () => {
    const commit = commitWindow({
      window,
      completions,
      records,
      written: [down, down],
      attempts: { [second.eventSid]: { runs: 9, at: iso(second.eventDateMs) } },
    });
    expect(commit.givenUp).toEqual([]);
    expect(commit.attempts[second.eventSid]).toEqual({ runs: 9, at: iso(second.eventDateMs) });
    expect(commit.cursorMs).toBe(first.eventDateMs);
  });

  it('drops the attempt entry of a record that is now written, and never gives it up', () => {
    const commit = commitWindow({
      window,
      completions,
      records,
      written: [{ kind: 'written' }, { kind: 'written' }],
      attempts: { [first.eventSid]: { runs: 4, at: iso(first.eventDateMs) } },
    });
    expect(commit.outcomes).toEqual([{ kind: 'written' }, { kind: 'written' }]);
    expect(commit.givenUp).toEqual([]);
    expect(commit.attempts).toEqual({});
    expect(commit.remaining).toBe(0);
  });

  it('reports a permanent refusal as it came, not as a give-up, whatever its earlier attempts', () => {
    const commit = commitWindow({
      window,
      completions,
      records,
      written: [refused, { kind: 'written' }],
      attempts: { [first.eventSid]: { runs: 4, at: iso(first.eventDateMs) } },
    });
    expect(commit.outcomes[0]).toEqual(refused);
    expect(commit.givenUp).toEqual([]);
    expect(commit.failures).toEqual([
      {
        key: first.itemKey,
        callSid: first.callSid,
        workerSid: first.workerSid,
        code: '54006',
        at: iso(first.eventDateMs),
      },
    ]);
    expect(commit.attempts).toEqual({});
  });
});
