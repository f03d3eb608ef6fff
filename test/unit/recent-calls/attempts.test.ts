/** The give-up policy (pure): no failure kind holds a record (and the cursor) forever; stored attempts are bounded. */
import fc from 'fast-check';
import {
  boundAttempts,
  GIVE_UP_AFTER_RUNS,
  GIVE_UP_TRANSIENT_AFTER_RUNS,
  MAX_ATTEMPT_ENTRIES,
  readAttempts,
  recordAttempt,
} from '../../../src/recent-calls/attempts';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('stored attempts', () => {
  it('are read tolerantly and bounded, keeping the earliest records (the one holding the cursor among them)', () => {
    const at = iso(NOW);
    expect(readAttempts({})).toEqual({});
    expect(readAttempts('x')).toEqual({});
    expect(
      readAttempts({
        EV1: { runs: 2, at },
        EV2: { runs: -1, at },
        EV3: { runs: 1.5, at },
        EV4: { runs: 'a', at },
        ['x'.repeat(65)]: { runs: 1, at },
        EV5: { runs: 5000, at },
        EV6: { runs: 1, at: 'yesterday' },
        EV7: 3,
        EV8: null,
      }),
    ).toEqual({ EV1: { runs: 2, at } });
    const many = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`EV${i}`, { runs: 1, at: iso(NOW - i * 1000) }]),
    );
    const read = readAttempts(many);
    expect(Object.keys(read)).toHaveLength(MAX_ATTEMPT_ENTRIES);
    expect(read['EV499']).toEqual({ runs: 1, at: iso(NOW - 499_000) }); // the earliest kept
    expect(read['EV0']).toBeUndefined();
  });

  it('limits: a key of 1 to 64 characters, runs from 1 to 1000, whole', () => {
    const at = iso(NOW);
    const keys = { ['k'.repeat(64)]: { runs: 1, at }, ['k'.repeat(65)]: { runs: 1, at }, '': { runs: 1, at } };
    expect(Object.keys(readAttempts(keys))).toEqual(['k'.repeat(64)]);
    const runs = { A: { runs: 0, at }, B: { runs: 1, at }, C: { runs: 1000, at }, D: { runs: 1001, at } };
    expect(Object.keys(readAttempts(runs)).sort()).toEqual(['B', 'C']);
    expect(readAttempts([{ runs: 1, at }])).toEqual({});
    expect(readAttempts(null)).toEqual({});
  });

  it(`keeps exactly ${MAX_ATTEMPT_ENTRIES} entries: the earliest ones`, () => {
    const entries = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`EV${i}`, { runs: 1, at: iso(NOW + i * 1000) }]));
    expect(MAX_ATTEMPT_ENTRIES).toBe(50);
    expect(Object.keys(boundAttempts(entries(50)))).toHaveLength(50);
    const bounded = boundAttempts(entries(51));
    expect(Object.keys(bounded)).toHaveLength(50);
    expect(bounded['EV50']).toBeUndefined();
    expect(bounded['EV0']).toBeDefined();
    // Sorted by time whatever the insertion order.
    expect(Object.keys(boundAttempts({ B: { runs: 1, at: iso(NOW + 1) }, A: { runs: 1, at: iso(NOW) } }))).toEqual([
      'A',
      'B',
    ]);
  });

  it('entries behind the cursor are dropped', () => {
    const attempts = { EVa: { runs: 3, at: iso(NOW - 2000) }, EVb: { runs: 1, at: iso(NOW) } };
    expect(boundAttempts(attempts, NOW - 1000)).toEqual({ EVb: { runs: 1, at: iso(NOW) } });
    expect(boundAttempts(attempts, NOW - 2000)).toEqual(attempts);
  });
});

describe('give-up policy', () => {
  it('gives up an unexpected failure at its 5th run, a 429 or 5xx only at its 10th', () => {
    expect(GIVE_UP_AFTER_RUNS).toBe(5);
    expect(GIVE_UP_TRANSIENT_AFTER_RUNS).toBe(10);
    expect(recordAttempt(3, { cause: 'unexpected' }, true)).toEqual({ runs: 4, giveUp: false });
    expect(recordAttempt(4, { cause: 'unexpected' }, true)).toEqual({ runs: 5, giveUp: true });
    expect(recordAttempt(4, {}, false)).toEqual({ runs: 5, giveUp: true }); // no cause: as unexpected
    for (const cause of ['throttled', 'unavailable']) {
      expect(recordAttempt(4, { cause }, true)).toEqual({ runs: 5, giveUp: false });
      expect(recordAttempt(8, { cause }, true)).toEqual({ runs: 9, giveUp: false });
      expect(recordAttempt(9, { cause }, true)).toEqual({ runs: 10, giveUp: true });
    }
    expect(recordAttempt(undefined, { cause: 'throttled' }, false)).toEqual({ runs: 1, giveUp: false });
    expect(recordAttempt(undefined, { cause: 'unavailable' }, false)).toEqual({ runs: 0, giveUp: false });
  });

  it('a count already past the limit (a run that died before saving the give-up) gives up at once', () => {
    expect(recordAttempt(12, { cause: 'throttled' }, false)).toEqual({ runs: 13, giveUp: true });
    expect(recordAttempt(12, { cause: 'unavailable' }, false)).toEqual({ runs: 12, giveUp: true });
  });

  it('gives up a record failing for an unexpected reason (not an answer from Twilio) after GIVE_UP_AFTER_RUNS runs', () => {
    let runs: number | undefined;
    for (let n = 1; n < GIVE_UP_AFTER_RUNS; n++) {
      const attempt = recordAttempt(runs, { cause: 'unexpected' }, false);
      expect(attempt).toEqual({ runs: n, giveUp: false });
      runs = attempt.runs;
    }
    expect(recordAttempt(runs, { cause: 'unexpected' }, false)).toEqual({ runs: GIVE_UP_AFTER_RUNS, giveUp: true });
  });

  it('counts a 5xx / network failure only in a run where Twilio took other writes (an outage gives nothing up)', () => {
    expect(recordAttempt(3, { cause: 'unavailable' }, false)).toEqual({ runs: 3, giveUp: false });
    expect(recordAttempt(3, { cause: 'unavailable' }, true)).toEqual({ runs: 4, giveUp: false });
    expect(recordAttempt(GIVE_UP_TRANSIENT_AFTER_RUNS - 1, { cause: 'unavailable' }, true)).toEqual({
      runs: GIVE_UP_TRANSIENT_AFTER_RUNS,
      giveUp: true,
    });
  });

  it("counts a 429 (about the record's own map) in every run, and gives it up after GIVE_UP_TRANSIENT_AFTER_RUNS", () => {
    expect(recordAttempt(3, { cause: 'throttled' }, false)).toEqual({ runs: 4, giveUp: false });
    expect(recordAttempt(GIVE_UP_TRANSIENT_AFTER_RUNS - 1, { cause: 'throttled' }, false)).toEqual({
      runs: GIVE_UP_TRANSIENT_AFTER_RUNS,
      giveUp: true,
    });
  });

  it('whatever fails, a record is given up within GIVE_UP_TRANSIENT_AFTER_RUNS runs in which Twilio took other writes', () => {
    const causes = ['throttled', 'unavailable', 'unexpected', undefined] as const;
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...causes), {
          minLength: GIVE_UP_TRANSIENT_AFTER_RUNS,
          maxLength: GIVE_UP_TRANSIENT_AFTER_RUNS,
        }),
        (kinds) => {
          let runs: number | undefined;
          for (let n = 0; n < kinds.length; n++) {
            const attempt = recordAttempt(runs, { cause: kinds[n] }, true);
            if (attempt.giveUp) return true;
            runs = attempt.runs;
          }
          return false;
        },
      ),
    );
  });
});
