/**
 * The checkpoint document is in the same Sync service as the agents' maps: its content is not trusted blindly.
 * A forged lease far ahead must not keep the job busy forever; a cursor in the future must not skip calls; stored
 * attempt counts are bounded. And the give-up policy: no failure kind holds a record (and the cursor) forever.
 */
import fc from 'fast-check';
import {
  acquireLease,
  boundAttempts,
  EMPTY_STATE,
  GIVE_UP_AFTER_RUNS,
  GIVE_UP_TRANSIENT_AFTER_RUNS,
  MAX_ATTEMPT_ENTRIES,
  readState,
  recordAttempt,
  trustedCursor,
  type Checkpoint,
  type CheckpointState,
} from '../../../src/recent-calls/checkpoint';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const LEASE_MS = 1000 + 4000; // budget + margin of this run
const MAX_LEASE_MS = 8500 + 4000; // the largest budget any run may have + margin

/** An in-memory checkpoint store with If-Match semantics. */
function memoryStore(initial: Partial<CheckpointState>) {
  let current: Checkpoint = { state: { ...EMPTY_STATE, ...initial }, revision: '0' };
  return {
    saves: 0,
    get current() {
      return current;
    },
    async loadOrCreate() {
      return current;
    },
    async save(state: CheckpointState, revision: string) {
      if (revision !== current.revision) return { ok: false as const, reason: 'conflict' as const };
      this.saves += 1;
      current = { state, revision: String(Number(revision) + 1) };
      return { ok: true as const, checkpoint: current };
    },
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('lease', () => {
  it('a live lease held by another run makes this run busy, even one taken by a run with the largest budget', async () => {
    for (const until of [NOW + 1, NOW + LEASE_MS, NOW + MAX_LEASE_MS]) {
      const store = memoryStore({ lease: { owner: 'other', until: iso(until) } });
      expect(await acquireLease(store, 'me', () => NOW, LEASE_MS, MAX_LEASE_MS)).toEqual({
        ok: false,
        reason: 'busy',
        until: iso(until),
      });
      expect(store.saves).toBe(0);
    }
  });

  it('an expired lease is taken over', async () => {
    const store = memoryStore({ lease: { owner: 'other', until: iso(NOW - 1) } });
    const result = await acquireLease(store, 'me', () => NOW, LEASE_MS, MAX_LEASE_MS);
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.ignoredLease).toBeUndefined();
    expect(store.current.state.lease).toEqual({ owner: 'me', until: iso(NOW + LEASE_MS) });
  });

  it('a lease ending further ahead than any run takes one is forged: ignored (and reported), the run proceeds', async () => {
    for (const until of [NOW + MAX_LEASE_MS + 60_000, NOW + 86_400_000, Date.parse('2099-01-01T00:00:00.000Z')]) {
      const store = memoryStore({ lease: { owner: 'mallory', until: iso(until) } });
      const result = await acquireLease(store, 'me', () => NOW, LEASE_MS, MAX_LEASE_MS);
      expect(result).toMatchObject({ ok: true, ignoredLease: { owner: 'mallory', until: iso(until) } });
      expect(store.current.state.lease).toEqual({ owner: 'me', until: iso(NOW + LEASE_MS) });
    }
  });
});

describe('cursor', () => {
  it('a cursor in the past (or within the clock slack) is trusted', () => {
    for (const at of [NOW - 30 * 86_400_000, NOW - 60_000, NOW + 1000]) {
      expect(trustedCursor({ ...EMPTY_STATE, cursor: iso(at) }, NOW)).toEqual({ cursorMs: at });
    }
    expect(trustedCursor(EMPTY_STATE, NOW)).toEqual({ cursorMs: undefined });
  });

  it("a cursor ahead of Twilio's clock is ignored (as if absent), never used to skip calls", () => {
    for (const at of [NOW + 60_000, NOW + 86_400_000, Date.parse('2099-01-01T00:00:00.000Z')]) {
      expect(trustedCursor({ ...EMPTY_STATE, cursor: iso(at) }, NOW)).toEqual({
        cursorMs: undefined,
        ignored: iso(at),
      });
    }
  });
});

describe('stored attempts', () => {
  it('are read tolerantly and bounded, keeping the earliest records (the one holding the cursor among them)', () => {
    const at = iso(NOW);
    expect(readState({}).attempts).toEqual({});
    expect(readState({ attempts: 'x' }).attempts).toEqual({});
    expect(
      readState({
        attempts: {
          EV1: { runs: 2, at },
          EV2: { runs: -1, at },
          EV3: { runs: 1.5, at },
          EV4: { runs: 'a', at },
          ['x'.repeat(65)]: { runs: 1, at },
          EV5: { runs: 5000, at },
          EV6: { runs: 1, at: 'yesterday' },
          EV7: 3,
        },
      }).attempts,
    ).toEqual({ EV1: { runs: 2, at } });
    const many = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`EV${i}`, { runs: 1, at: iso(NOW - i * 1000) }]),
    );
    const read = readState({ attempts: many }).attempts;
    expect(Object.keys(read)).toHaveLength(MAX_ATTEMPT_ENTRIES);
    expect(read['EV499']).toEqual({ runs: 1, at: iso(NOW - 499_000) }); // the earliest kept
    expect(read['EV0']).toBeUndefined();
  });

  it('entries behind the cursor are dropped', () => {
    const attempts = { EVa: { runs: 3, at: iso(NOW - 2000) }, EVb: { runs: 1, at: iso(NOW) } };
    expect(boundAttempts(attempts, NOW - 1000)).toEqual({ EVb: { runs: 1, at: iso(NOW) } });
    expect(boundAttempts(attempts, NOW - 2000)).toEqual(attempts);
  });
});

describe('give-up policy', () => {
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
