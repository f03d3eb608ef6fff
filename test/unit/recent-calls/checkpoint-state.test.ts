/** Checkpoint data is read tolerantly and bounded: it lives in a document others can write. */
import { EMPTY_STATE, MAX_FAILURES, readState, cursorMs } from '../../../src/recent-calls/checkpoint-state';

const AT = '2026-03-01T00:00:00.000Z';
const failure = (i: number) => ({ key: `k${i}`, callSid: 'CA1', workerSid: 'WK1', code: '54006', at: AT });

describe('checkpoint state', () => {
  it('reads stored data tolerantly', () => {
    expect(readState(undefined)).toMatchObject({ v: 1, cursor: null, lease: null, failures: [] });
    expect(readState({ cursor: 'garbage', lease: { owner: 1 }, windowSeconds: -5 })).toMatchObject({
      cursor: null,
      lease: null,
      windowSeconds: null,
    });
    const state = readState({
      cursor: '2026-03-01T00:00:00.000Z',
      lease: { owner: 'run', until: '2026-03-01T00:00:10.000Z' },
      windowSeconds: 3600,
    });
    expect(state).toMatchObject({ cursor: '2026-03-01T00:00:00.000Z', lease: { owner: 'run' }, windowSeconds: 3600 });
  });
});

describe('stored failures, last run and write id', () => {
  it(`keeps the newest ${MAX_FAILURES} well-formed failures`, () => {
    expect(MAX_FAILURES).toBe(20);
    const failures = Array.from({ length: 25 }, (_, i) => failure(i));
    const read = readState({ failures }).failures;
    expect(read).toHaveLength(20);
    expect(read[0].key).toBe('k5');
    expect(read[19].key).toBe('k24');
    expect(readState({ failures: failures.slice(0, 20) }).failures).toHaveLength(20);
  });

  it('drops failures with a missing field or one longer than 200 characters, and keeps a null call SID', () => {
    const ok = failure(1);
    const read = readState({
      failures: [
        ok,
        { ...ok, code: 'c'.repeat(200) },
        { ...ok, code: 'c'.repeat(201) },
        { ...ok, workerSid: 5 },
        { ...ok, key: undefined },
        { ...ok, callSid: 7 },
        { ...ok, callSid: null },
        null,
        'x',
      ],
    }).failures;
    expect(read).toEqual([ok, { ...ok, code: 'c'.repeat(200) }, { ...ok, callSid: null }]);
    expect(readState({ failures: 'x' }).failures).toEqual([]);
  });

  it('keeps the last run flat: primitive values only, at most 50 fields', () => {
    expect(readState({ lastRun: { done: true, written: 3, at: AT, nested: { a: 1 }, list: [1] } }).lastRun).toEqual({
      done: true,
      written: 3,
      at: AT,
    });
    const wide = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, i]));
    expect(Object.keys(readState({ lastRun: wide }).lastRun!)).toHaveLength(50);
    expect(readState({ lastRun: [1, 2] }).lastRun).toBeNull();
    expect(readState({ lastRun: 'x' }).lastRun).toBeNull();
  });

  it('keeps a string write id and a positive window length only', () => {
    expect(readState({ writeId: 'abc', windowSeconds: 60 })).toMatchObject({ writeId: 'abc', windowSeconds: 60 });
    expect(readState({ writeId: 5, windowSeconds: 0 })).toMatchObject({ writeId: null, windowSeconds: null });
  });

  it('reads its own empty state back as is', () => {
    expect(readState(EMPTY_STATE)).toEqual(EMPTY_STATE);
  });
});

describe('cursorMs', () => {
  it('is the stored cursor in ms, undefined before the first committed window', () => {
    expect(cursorMs(EMPTY_STATE)).toBeUndefined();
    expect(cursorMs({ ...EMPTY_STATE, cursor: AT })).toBe(Date.parse(AT));
  });
});
