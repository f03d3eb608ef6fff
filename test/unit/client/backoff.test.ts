/** The browser client's backoff and Retry-After reading. */
import fc from 'fast-check';
import { backoffDelayMs, parseRetryAfter, retrying, type RetryPolicy } from '../../../src/client/backoff';
import { SyncTokenError } from '../../../src/client';
import { T0 } from './fakes';

const policy: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000, jitter: 'equal' };

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
