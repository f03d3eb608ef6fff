/** The client's building blocks: backoff and Retry-After, the cache entry checks, the margin, storage fallbacks. */
import fc from 'fast-check';
import { backoffDelayMs, parseRetryAfter, retrying, type RetryPolicy } from '../../../src/client/backoff';
import { defaultStorage, memoryStorage, safeStorage } from '../../../src/client/storage';
import { decodeEntry, encodeEntry, fingerprint, isFresh, makeEntry, marginMs } from '../../../src/client/token-cache';
import { SyncTokenError } from '../../../src/client';
import { FakeStorage, T0 } from './fakes';

const policy: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000 };

describe('backoff', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2', T0)).toBe(2000);
    expect(parseRetryAfter(' 0.5 ', T0)).toBe(500);
    expect(parseRetryAfter(new Date(T0 + 3000).toUTCString(), T0)).toBe(3000);
    expect(parseRetryAfter(new Date(T0 - 3000).toUTCString(), T0)).toBe(0);
    expect(parseRetryAfter('soon', T0)).toBeUndefined();
    expect(parseRetryAfter(null, T0)).toBeUndefined();
    expect(parseRetryAfter('', T0)).toBeUndefined();
  });

  it('keeps each delay between half and all of the exponential ceiling, and never below Retry-After', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.option(fc.nat(20_000), { nil: undefined }),
        (retry, r, after) => {
          const delay = backoffDelayMs(retry, policy, after, () => r);
          const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
          expect(delay).toBeGreaterThanOrEqual(after ?? 0);
          expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
          if (after === undefined) expect(delay).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });

  it('grows exponentially up to the cap', () => {
    const top = (retry: number) => backoffDelayMs(retry, policy, undefined, () => 0.999999);
    expect(Math.round(top(1))).toBe(500);
    expect(Math.round(top(2))).toBe(1000);
    expect(Math.round(top(4))).toBe(4000);
    expect(Math.round(top(10))).toBe(8000);
  });

  it('retrying stops when cancelled, with the last error', async () => {
    let cancelled = false;
    let calls = 0;
    const failure = new SyncTokenError({ code: 'NETWORK_ERROR', message: 'x', status: 0, retryable: true });
    const run = retrying(
      async () => {
        calls++;
        throw failure;
      },
      {
        policy,
        random: () => 0,
        classify: (e) => e as SyncTokenError,
        sleep: async () => {
          cancelled = true;
        },
        cancelled: () => cancelled,
      },
    );
    await expect(run).rejects.toBe(failure);
    expect(calls).toBe(1);
  });
});

describe('token cache entries', () => {
  const result = {
    token: 'jwt',
    identity: 'alice',
    ttl: 3600,
    expiresAt: new Date(T0 + 3600_000).toISOString(),
    serviceSid: 'IS1',
  };

  it('round-trips through storage text', () => {
    const entry = makeEntry('https://x.twil.io/sync-token', 'u1', T0, result);
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    expect(entry.expiresAtMs).toBe(T0 + 3600_000);
  });

  it('rejects anything malformed', () => {
    for (const text of [
      null,
      '',
      'x',
      '[]',
      '{}',
      '{"v":1}',
      JSON.stringify({ v: 1, endpoint: 'e', user: 'u', obtainedAtMs: 'a' }),
    ]) {
      expect(decodeEntry(text)).toBeUndefined();
    }
  });

  it('is fresh only before expiry minus the margin, and not when the clock went back', () => {
    const entry = makeEntry('e', 'u', T0, result);
    const staleAt = T0 + 3600_000 - 360_000;
    expect(isFresh(entry, T0)).toBe(true);
    expect(isFresh(entry, staleAt - 1)).toBe(true);
    expect(isFresh(entry, staleAt)).toBe(false);
    expect(isFresh(entry, T0 - 1)).toBe(false);
    expect(isFresh(entry, Number.NaN)).toBe(false);
  });

  it('uses 10 % of the lifetime as the default margin, at least 300 s, at most half the lifetime', () => {
    expect(marginMs(3600)).toBe(360_000);
    expect(marginMs(86_400)).toBe(8_640_000);
    expect(marginMs(1800)).toBe(300_000);
    expect(marginMs(400)).toBe(200_000);
    expect(marginMs(3600, 60)).toBe(60_000);
    expect(marginMs(3600, 0)).toBe(0);
    expect(marginMs(3600, 99_999)).toBe(1_800_000);
  });

  it('fingerprints tokens stably and tells different ones apart', () => {
    expect(fingerprint('token-a')).toBe(fingerprint('token-a'));
    expect(fingerprint('token-a')).not.toBe(fingerprint('token-b'));
    expect(fingerprint('token-a')).not.toContain('token');
  });
});

describe('storage', () => {
  it('memoryStorage keeps values per instance', () => {
    const a = memoryStorage();
    const b = memoryStorage();
    a.setItem('k', 'v');
    expect(a.getItem('k')).toBe('v');
    expect(b.getItem('k')).toBeNull();
    a.removeItem('k');
    expect(a.getItem('k')).toBeNull();
  });

  it('defaultStorage uses sessionStorage when it accepts writes, else memory', () => {
    const g = globalThis as { sessionStorage?: unknown };
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'sessionStorage');
    try {
      const session = new FakeStorage();
      Object.defineProperty(globalThis, 'sessionStorage', { value: session, configurable: true });
      expect(defaultStorage()).toBe(session);
      expect(session.values.size).toBe(0); // the probe is removed

      session.refuseWrites = true;
      const fallback = defaultStorage();
      expect(fallback).not.toBe(session);
      fallback.setItem('k', 'v');
      expect(fallback.getItem('k')).toBe('v');

      Object.defineProperty(globalThis, 'sessionStorage', {
        get() {
          throw new Error('SecurityError');
        },
        configurable: true,
      });
      expect(defaultStorage().getItem('anything')).toBeNull();
    } finally {
      if (saved) Object.defineProperty(globalThis, 'sessionStorage', saved);
      else delete g.sessionStorage;
    }
  });

  it('safeStorage turns refusals into misses', () => {
    const inner = new FakeStorage();
    inner.refuseReads = true;
    inner.refuseWrites = true;
    const safe = safeStorage(inner);
    expect(() => safe.setItem('k', 'v')).not.toThrow();
    expect(safe.getItem('k')).toBeNull();
    expect(() => safe.removeItem('k')).not.toThrow();
  });
});
