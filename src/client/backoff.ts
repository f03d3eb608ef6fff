/**
 * Backoff for the browser client: exponential with jitter, a server's Retry-After honoured as a floor, a bounded
 * number of attempts. Browser-safe (no Node APIs); the clock, sleep and randomness are injectable for tests.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  attempts: number;
  /** Ceiling of the first retry's delay; each retry doubles it. */
  baseDelayMs: number;
  /** Cap on any single delay. A Retry-After above it ends the retries (the error carries `retryAfterMs`). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Refreshing a live Sync client is worth more patience: the SDK warns 3 minutes before expiry. */
export const DEFAULT_REFRESH_RETRY_POLICY: RetryPolicy = { attempts: 6, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** Waits `ms`; an aborted `signal` ends the wait at once and clears its timer. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/** Retry-After in ms (delta-seconds or an HTTP date): the project's one parser, browser-safe. */
export { parseRetryAfter } from '../twilio/retry-policy';

/**
 * Delay before retry number `retry` (1 = the first retry): "equal jitter", i.e. between half and all of
 * min(maxDelayMs, baseDelayMs * 2^(retry-1)), so delays grow but concurrent clients spread out;
 * never below `retryAfterMs`.
 */
export function backoffDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

export function validatePolicy(policy: RetryPolicy, name: string): RetryPolicy {
  const { attempts, baseDelayMs, maxDelayMs } = policy;
  if (!Number.isInteger(attempts) || attempts < 1) throw new TypeError(`${name}.attempts must be an integer >= 1`);
  if (!(baseDelayMs >= 0) || !Number.isFinite(baseDelayMs)) throw new TypeError(`${name}.baseDelayMs must be >= 0`);
  if (!(maxDelayMs >= baseDelayMs) || !Number.isFinite(maxDelayMs)) {
    throw new TypeError(`${name}.maxDelayMs must be >= baseDelayMs`);
  }
  return { attempts, baseDelayMs, maxDelayMs };
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
    const tooLate = error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxDelayMs;
    const willRetry = error.retryable && attempt < policy.attempts && !tooLate && !options.cancelled?.();
    options.onFailure?.(error, attempt, willRetry);
    if (!willRetry) throw error;
    await options.sleep(backoffDelayMs(attempt, policy, error.retryAfterMs, options.random), options.signal);
    if (options.cancelled?.()) throw error;
  }
}
