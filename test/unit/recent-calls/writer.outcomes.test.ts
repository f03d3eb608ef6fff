/** Write outcome classification. */
import { classifyFailure, isCommitted } from '../../../src/recent-calls/writer';

describe('write outcomes', () => {
  it('commits written, already-there, too-old and permanently failed records; not retryable failures or unattempted ones', () => {
    expect(isCommitted({ kind: 'written' })).toBe(true);
    expect(isCommitted({ kind: 'exists' })).toBe(true);
    expect(isCommitted({ kind: 'old' })).toBe(true);
    expect(isCommitted({ kind: 'failed', retryable: false, code: '54006' })).toBe(true);
    expect(isCommitted({ kind: 'failed', retryable: true, code: '54009' })).toBe(false);
    expect(isCommitted({ kind: 'not-attempted' })).toBe(false);
    expect(isCommitted(undefined)).toBe(false);
  });
  it('classifies failures: 429/5xx/network retryable, other 4xx permanent, the unknown retryable; with their cause', () => {
    expect(classifyFailure({ status: 429, code: 54009, message: '' })).toEqual({
      retryable: true,
      code: '54009',
      cause: 'throttled',
    });
    expect(classifyFailure({ status: 503, message: '' })).toEqual({
      retryable: true,
      code: 'HTTP_503',
      cause: 'unavailable',
    });
    expect(classifyFailure({ status: 400, code: 54006, message: '' })).toEqual({
      retryable: false,
      code: '54006',
      cause: 'rejected',
    });
    expect(classifyFailure({ status: 403, code: 20403, message: '' })).toEqual({
      retryable: false,
      code: '20403',
      cause: 'rejected',
    });
    expect(classifyFailure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toEqual({
      retryable: true,
      code: 'ECONNRESET',
      cause: 'unavailable',
    });
    expect(classifyFailure(new TypeError('bug'))).toEqual({ retryable: true, code: 'UNEXPECTED', cause: 'unexpected' });
  });
});
