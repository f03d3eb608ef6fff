/**
 * The project's one retry policy, for the functions' Twilio calls and the browser client alike: what is retryable
 * (429, 5xx, network errors), Retry-After, and the exponential backoff between attempts. A server's Retry-After is
 * honoured as a floor. No imports and no Node APIs: the browser bundle includes this file.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  attempts: number;
  /** Ceiling of the first retry's delay; each retry doubles it. */
  baseDelayMs: number;
  /** Cap on any single delay. */
  maxDelayMs: number;
  /**
   * How a delay is drawn under its ceiling: `full` (default) anywhere from 0, which spreads a burst of callers
   * most; `equal` from half the ceiling up, so that delays keep growing (the browser client's choice).
   */
  jitter?: 'full' | 'equal';
}

/** The functions' Twilio calls: quick retries, as an invocation has 10 s in all (the deadline bounds them too). */
export const TWILIO_RETRY_POLICY: RetryPolicy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 2000 };

const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

export function isRetryableNetworkError(error: unknown): boolean {
  const e = error as { code?: string; message?: string; response?: unknown };
  if (!e || e.response) return false;
  // Stryker disable next-line StringLiteral: equivalent, any code or message that is not one of these reads the same
  return RETRYABLE_NETWORK_CODES.has(e.code ?? '') || /socket hang up|timeout/i.test(e.message ?? '');
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, nowMs = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Delay before retry number `retry` (1 = the first retry): a draw under min(maxDelayMs, baseDelayMs * 2^(retry-1))
 * as `policy.jitter` says, never below `retryAfterMs`.
 */
export function backoffDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const floor = policy.jitter === 'equal' ? ceiling / 2 : 0;
  const jittered = floor + random() * (ceiling - floor);
  return Math.max(jittered, retryAfterMs ?? 0);
}
