import fc from 'fast-check';
import {
  backoffDelayMs,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
} from '../../../src/twilio/retry-policy';

const policy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 2000 };

describe('retry policy', () => {
  it('retries 429 and 5xx gateway errors, not other 4xx', () => {
    for (const status of [429, 500, 502, 503, 504]) expect(isRetryableStatus(status)).toBe(true);
    for (const status of [200, 400, 401, 403, 404, 409, 412, 413]) expect(isRetryableStatus(status)).toBe(false);
  });

  it('retries network errors but not errors that carry a response', () => {
    expect(isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableNetworkError(new Error('socket hang up'))).toBe(true);
    expect(isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET', response: {} }))).toBe(false);
    expect(isRetryableNetworkError(new TypeError('bad argument'))).toBe(false);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('keeps every delay within the exponential ceiling and never below Retry-After', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.option(fc.nat(5000)),
        (retry, r, after) => {
          const delay = backoffDelayMs(retry, policy, after ?? undefined, () => r);
          const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
          expect(delay).toBeGreaterThanOrEqual(after ?? 0);
          if (after === null) expect(delay).toBeLessThan(ceiling + 1e-9);
        },
      ),
    );
  });

  it('grows the ceiling exponentially up to the cap', () => {
    const max = (retry: number) => backoffDelayMs(retry, policy, undefined, () => 0.999999);
    expect(max(1)).toBeCloseTo(100, 0);
    expect(max(2)).toBeCloseTo(200, 0);
    expect(max(4)).toBeCloseTo(800, 0);
    expect(max(10)).toBeCloseTo(2000, 0);
  });

  it('retries every transient network error code, and a timeout or hang-up named only in the message', () => {
    const codes = [
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
    ];
    for (const code of codes)
      expect([code, isRetryableNetworkError(Object.assign(new Error('x'), { code }))]).toEqual([code, true]);
    expect(isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe(false);
    expect(isRetryableNetworkError(new Error('Request TIMEOUT after 5000 ms'))).toBe(true);
    expect(isRetryableNetworkError(new Error('Socket hang up'))).toBe(true);
    expect(isRetryableNetworkError(null)).toBe(false);
    expect(isRetryableNetworkError(undefined)).toBe(false);
    expect(isRetryableNetworkError({})).toBe(false);
  });

  it('reads fractional and padded seconds, and refuses values that are neither seconds nor a date', () => {
    expect(parseRetryAfter('0.25')).toBe(250);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('12.5')).toBe(12_500);
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter(' 5 ')).toBe(5000);
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter('1e3')).toBeUndefined();
    expect(parseRetryAfter('   ')).toBeUndefined();
    expect(parseRetryAfter(5 as unknown)).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:10Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(0); // a date in the past: retry now
  });

  it('with equal jitter draws between half and all of the ceiling (the browser client keeps growing delays)', () => {
    const equal = { ...policy, jitter: 'equal' as const };
    expect(backoffDelayMs(3, equal, undefined, () => 0)).toBe(200);
    expect(backoffDelayMs(3, equal, undefined, () => 0.5)).toBe(300);
    expect(backoffDelayMs(3, equal, undefined, () => 1)).toBe(400);
    expect(backoffDelayMs(30, equal, undefined, () => 0)).toBe(1000);
    expect(backoffDelayMs(3, equal, 350, () => 0)).toBe(350);
    expect(backoffDelayMs(3, { ...policy, jitter: 'full' }, undefined, () => 0)).toBe(0);
  });

  it('treats a retry number below 1 as the first retry', () => {
    expect(backoffDelayMs(0, policy, undefined, () => 1)).toBe(100);
    expect(backoffDelayMs(-3, policy, undefined, () => 1)).toBe(100);
  });

  it('draws the delay as random x ceiling, and takes Retry-After when it is longer', () => {
    expect(backoffDelayMs(3, policy, undefined, () => 0.5)).toBe(200);
    expect(backoffDelayMs(1, policy, undefined, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, 150, () => 0.5)).toBe(200);
    expect(backoffDelayMs(3, policy, 250, () => 0.5)).toBe(250);
    expect(backoffDelayMs(30, policy, undefined, () => 0.5)).toBe(1000);
  });
});
