/**
 * The browser client's retry loop, on the project's one policy type and backoff (src/twilio/retry-policy.ts, which
 * is browser-safe): a bounded number of attempts, a server's Retry-After honoured as a floor, and a Retry-After above
 * `maxDelayMs` ends the retries (the error carries `retryAfterMs`). The client's policies use equal jitter, so their
 * delays keep growing. No Node APIs; the clock, sleep and randomness are injectable for tests.
 */
import { backoffDelayMs, type RetryPolicy } from '../twilio/retry-policy';

export { backoffDelayMs, parseRetryAfter, type RetryPolicy } from '../twilio/retry-policy';

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, jitter: 'equal' };

/** Refreshing a live Sync client is worth more patience: the SDK warns 3 minutes before expiry. */
export const DEFAULT_REFRESH_RETRY_POLICY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  jitter: 'equal',
};

/** Waits `ms`; an aborted `signal` ends the wait at once and clears its timer. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

export function validatePolicy(policy: RetryPolicy, name: string): RetryPolicy {
  const { attempts, baseDelayMs, maxDelayMs, jitter } = policy;
  if (!Number.isInteger(attempts) || attempts < 1) throw new TypeError(`${name}.attempts must be an integer >= 1`);
  if (!(baseDelayMs >= 0) || !Number.isFinite(baseDelayMs)) throw new TypeError(`${name}.baseDelayMs must be >= 0`);
  if (!(maxDelayMs >= baseDelayMs) || !Number.isFinite(maxDelayMs)) {
    throw new TypeError(`${name}.maxDelayMs must be >= baseDelayMs`);
  }
  if (jitter !== undefined && jitter !== 'full' && jitter !== 'equal') {
    throw new TypeError(`${name}.jitter must be "full" or "equal"`);
  }
  return { attempts, baseDelayMs, maxDelayMs, jitter };
}

export interface Retryable {
  retryable: boolean;
  retryAfterMs?: number;
}

export interface RetryOptions<E extends Retryable> {
  policy: RetryPolicy;
  sleep: Sleep;
  random: () => number;
  /** Turns anything thrown into an error that says whether (and when) to retry. */
  classify: (error: unknown) => E;
  /** Told of every failed attempt, before the wait. */
  onFailure?: (error: E, attempt: number, willRetry: boolean) => void;
  /** Checked before each attempt and after each wait; true ends the loop with the last error. */
  cancelled?: () => boolean;
  /** Ends a wait between attempts early (its timer cleared); `cancelled` then ends the loop. */
  signal?: AbortSignal;
}

/** Runs `operation` up to `policy.attempts` times; rethrows the last (classified) error. */
export async function retrying<T, E extends Retryable>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions<E>,
): Promise<T> {
  const { policy } = options;
  for (let attempt = 1; ; attempt++) {
    let error: E;
    try {
      return await operation(attempt);
    } catch (raw) {
      error = options.classify(raw);
    }
    const tooLate = (error.retryAfterMs ?? 0) > policy.maxDelayMs;
    const willRetry = error.retryable && attempt < policy.attempts && !tooLate && !options.cancelled?.();
    options.onFailure?.(error, attempt, willRetry);
    if (!willRetry) throw error;
    await options.sleep(backoffDelayMs(attempt, policy, error.retryAfterMs, options.random), options.signal);
    if (options.cancelled?.()) throw error;
  }
}
