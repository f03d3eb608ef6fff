/** The browser client's backoff and Retry-After reading. */
import fc from 'fast-check';
import {
  backoffDelayMs,
  DEFAULT_REFRESH_RETRY_POLICY,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  realSleep,
  retrying,
  validatePolicy,
  type RetryPolicy,
} from '../../../src/client/backoff';
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

/** A failure the loop can classify: retryable or not, with an optional Retry-After. */
interface Failure {
  retryable: boolean;
  retryAfterMs?: number;
  n: number;
}

/** Runs `retrying` over scripted failures (then a success), recording sleeps and onFailure calls. */
async function script(
  failures: Array<Omit<Failure, 'n'>>,
  options: { attempts?: number; cancelAfterSleeps?: number; cancelBefore?: boolean; maxDelayMs?: number } = {},
) {
  const slept: number[] = [];
  const told: Array<[number, number, boolean]> = [];
  const calls: number[] = [];
  let cancelled = options.cancelBefore ?? false;
  const signal = new AbortController().signal;
  const signals: Array<AbortSignal | undefined> = [];
  const run = retrying<string, Failure>(
    async (attempt) => {
      calls.push(attempt);
      const failure = failures[attempt - 1];
      if (failure) throw { ...failure, n: attempt };
      return `ok after ${attempt}`;
    },
    {
      policy: { attempts: options.attempts ?? 4, baseDelayMs: 100, maxDelayMs: options.maxDelayMs ?? 1000 },
      random: () => 1,
      classify: (e) => e as Failure,
      sleep: async (ms, s) => {
        slept.push(ms);
        signals.push(s);
        if (options.cancelAfterSleeps !== undefined && slept.length >= options.cancelAfterSleeps) cancelled = true;
      },
      onFailure: (error, attempt, willRetry) => told.push([error.n, attempt, willRetry]),
      cancelled: () => cancelled,
      signal,
    },
  );
  const outcome = await run.then(
    (value) => ({ value }),
    (error: Failure) => ({ error: error.n }),
  );
  return { outcome, slept, told, calls, signals, signal };
}

const RETRYABLE = { retryable: true };

describe('retrying', () => {
  it('returns the first success, retrying retryable failures with growing delays', async () => {
    const r = await script([RETRYABLE, RETRYABLE]);
    expect(r.outcome).toEqual({ value: 'ok after 3' });
    expect(r.calls).toEqual([1, 2, 3]);
    expect(r.slept).toEqual([100, 200]); // full jitter at random() = 1: the ceiling of each retry
    expect(r.told).toEqual([
      [1, 1, true],
      [2, 2, true],
    ]);
    expect(r.signals).toEqual([r.signal, r.signal]); // the caller's signal can end each wait
  });

  it('makes exactly policy.attempts attempts, then rethrows the last error', async () => {
    const r = await script([RETRYABLE, RETRYABLE, RETRYABLE, RETRYABLE, RETRYABLE], { attempts: 4 });
    expect(r.outcome).toEqual({ error: 4 });
    expect(r.calls).toEqual([1, 2, 3, 4]);
    expect(r.slept).toEqual([100, 200, 400]);
    expect(r.told.map(([, , willRetry]) => willRetry)).toEqual([true, true, true, false]);

    const once = await script([RETRYABLE], { attempts: 1 });
    expect(once.outcome).toEqual({ error: 1 });
    expect(once.slept).toEqual([]);
    expect(once.told).toEqual([[1, 1, false]]);
  });

  it('does not retry a failure that is not retryable', async () => {
    const r = await script([RETRYABLE, { retryable: false }, RETRYABLE]);
    expect(r.outcome).toEqual({ error: 2 });
    expect(r.calls).toEqual([1, 2]);
    expect(r.told).toEqual([
      [1, 1, true],
      [2, 2, false],
    ]);
  });

  it('waits at least Retry-After, and gives up at once when Retry-After is above maxDelayMs', async () => {
    const within = await script([{ retryable: true, retryAfterMs: 1000 }], { maxDelayMs: 1000 });
    expect(within.outcome).toEqual({ value: 'ok after 2' });
    expect(within.slept).toEqual([1000]);

    const tooLate = await script([{ retryable: true, retryAfterMs: 1001 }], { maxDelayMs: 1000 });
    expect(tooLate.outcome).toEqual({ error: 1 });
    expect(tooLate.slept).toEqual([]);
    expect(tooLate.told).toEqual([[1, 1, false]]);
  });

  it('stops when cancelled before a retry or during a wait, with the last error', async () => {
    const before = await script([RETRYABLE, RETRYABLE], { cancelBefore: true });
    expect(before.outcome).toEqual({ error: 1 });
    expect(before.slept).toEqual([]);
    expect(before.told).toEqual([[1, 1, false]]);

    const during = await script([RETRYABLE, RETRYABLE], { cancelAfterSleeps: 2 });
    expect(during.outcome).toEqual({ error: 2 });
    expect(during.calls).toEqual([1, 2]);
    expect(during.slept).toEqual([100, 200]);
  });

  it('works without onFailure, cancelled or a signal', async () => {
    let calls = 0;
    const value = await retrying(
      async () => {
        if (++calls < 3) throw new Error('flaky');
        return calls;
      },
      {
        policy: { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
        random: () => 0.5,
        sleep: async () => {},
        classify: () => ({ retryable: true }),
      },
    );
    expect(value).toBe(3);
  });
});

describe('validatePolicy', () => {
  it('passes a sound policy through, jitter included', () => {
    expect(validatePolicy({ attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, 'retry')).toEqual({
      attempts: 1,
      baseDelayMs: 0,
      maxDelayMs: 0,
      jitter: undefined,
    });
    expect(validatePolicy({ attempts: 3, baseDelayMs: 10, maxDelayMs: 10, jitter: 'full' }, 'retry')).toEqual({
      attempts: 3,
      baseDelayMs: 10,
      maxDelayMs: 10,
      jitter: 'full',
    });
    expect(validatePolicy({ ...DEFAULT_RETRY_POLICY, jitter: 'equal' }, 'retry').jitter).toBe('equal');
  });

  it('names the option and the field it refuses', () => {
    const refuse = (policy: Record<string, unknown>) => () =>
      validatePolicy({ attempts: 2, baseDelayMs: 10, maxDelayMs: 20, ...policy } as never, 'refreshRetry');
    for (const attempts of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(refuse({ attempts })).toThrow(new TypeError('refreshRetry.attempts must be an integer >= 1'));
    }
    for (const baseDelayMs of [-1, Number.NaN, Infinity]) {
      expect(refuse({ baseDelayMs, maxDelayMs: Infinity })).toThrow(
        new TypeError('refreshRetry.baseDelayMs must be >= 0'),
      );
    }
    for (const maxDelayMs of [9, Number.NaN, Infinity]) {
      expect(refuse({ maxDelayMs })).toThrow(new TypeError('refreshRetry.maxDelayMs must be >= baseDelayMs'));
    }
    for (const jitter of ['none', '', 0]) {
      expect(refuse({ jitter })).toThrow(new TypeError('refreshRetry.jitter must be "full" or "equal"'));
    }
  });

  it('gives the client equal jitter by default, so its delays keep growing', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({ attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, jitter: 'equal' });
    expect(DEFAULT_REFRESH_RETRY_POLICY).toEqual({
      attempts: 6,
      baseDelayMs: 1000,
      maxDelayMs: 30_000,
      jitter: 'equal',
    });
  });
});

describe('realSleep', () => {
  it('resolves after its timer, and at once for a negative or already aborted wait', async () => {
    jest.useFakeTimers();
    try {
      let done = false;
      const wait = realSleep(1000).then(() => (done = true));
      await jest.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await wait;
      expect(done).toBe(true);

      let negative = false;
      const soon = realSleep(-5).then(() => (negative = true));
      await jest.advanceTimersByTimeAsync(0);
      await soon;
      expect(negative).toBe(true);

      const aborted = new AbortController();
      aborted.abort();
      await realSleep(60_000, aborted.signal); // resolves with no timer run
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('ends a wait when its signal aborts, clearing the timer and the listener', async () => {
    jest.useFakeTimers();
    try {
      const controller = new AbortController();
      const removed: string[] = [];
      const remove = controller.signal.removeEventListener.bind(controller.signal);
      controller.signal.removeEventListener = ((type: string, listener: never) => {
        removed.push(type);
        remove(type, listener);
      }) as typeof controller.signal.removeEventListener;
      let done = false;
      const wait = realSleep(60_000, controller.signal).then(() => (done = true));
      expect(jest.getTimerCount()).toBe(1);
      controller.abort();
      await wait;
      expect(done).toBe(true);
      expect(jest.getTimerCount()).toBe(0);
      expect(removed).toEqual(['abort']);
    } finally {
      jest.useRealTimers();
    }
  });
});
