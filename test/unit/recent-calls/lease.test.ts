/**
 * The lease lives in a document others can write: a forged lease far ahead must not keep the job busy forever, and a
 * live lease of another run (even one with the largest budget) must.
 */
import { EMPTY_STATE, type CheckpointState } from '../../../src/recent-calls/checkpoint-state';
import type { Checkpoint } from '../../../src/recent-calls/checkpoint-store';
import {
  acquireLease,
  CLOCK_SLACK_MS,
  latestPlausibleLeaseEnd,
  LEASE_MARGIN_MS,
  leaseMsFor,
} from '../../../src/recent-calls/lease';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const LEASE_MS = leaseMsFor(1000); // budget + margin of this run
const MAX_LEASE_MS = leaseMsFor(8500); // the largest budget any run may have + margin

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

describe('lease limits', () => {
  it('a run holds the lease for its budget plus 4 s (its last save comes after the budget)', () => {
    expect(leaseMsFor(8000)).toBe(12_000);
    expect(LEASE_MARGIN_MS).toBe(4000);
  });

  it("a lease ending exactly at the latest plausible end is a run's (busy); 1 ms later it is forged (ignored)", async () => {
    const latest = latestPlausibleLeaseEnd(NOW, MAX_LEASE_MS);
    expect(latest).toBe(NOW + MAX_LEASE_MS + 2000);
    expect(CLOCK_SLACK_MS).toBe(2000);
    const atLimit = memoryStore({ lease: { owner: 'other', until: iso(latest) } });
    expect(await acquireLease(atLimit, 'me', () => NOW, LEASE_MS, MAX_LEASE_MS)).toMatchObject({ ok: false });
    const beyond = memoryStore({ lease: { owner: 'other', until: iso(latest + 1) } });
    expect(await acquireLease(beyond, 'me', () => NOW, LEASE_MS, MAX_LEASE_MS)).toMatchObject({
      ok: true,
      ignoredLease: { owner: 'other' },
    });
  });

  it("a lease ending exactly now has expired; the run's own lease is taken again", async () => {
    const expired = memoryStore({ lease: { owner: 'other', until: iso(NOW) } });
    expect(await acquireLease(expired, 'me', () => NOW, LEASE_MS, MAX_LEASE_MS)).toMatchObject({ ok: true });
    const own = memoryStore({ lease: { owner: 'me', until: iso(NOW + LEASE_MS) } });
    expect(await acquireLease(own, 'me', () => NOW, LEASE_MS, MAX_LEASE_MS)).toMatchObject({ ok: true });
  });

  it('a save that finds the revision moved reports a conflict', async () => {
    const store = memoryStore({});
    const moved = { ...store, save: async () => ({ ok: false as const, reason: 'conflict' as const }) };
    expect(await acquireLease(moved, 'me', () => NOW, LEASE_MS)).toEqual({ ok: false, reason: 'conflict' });
  });
});
