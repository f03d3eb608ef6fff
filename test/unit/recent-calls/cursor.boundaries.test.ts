/** The cursor's edge cases: unreadable stored cursors, a missing or non-finite cursor, sub-second windows. */
import { DAY_MS } from '../../../src/recent-calls/call-record';
import { CURSOR_SLACK_MS, nextWindow, startCursor, trustedCursor } from '../../../src/recent-calls/cursor';

const NOW = Date.parse('2026-03-01T10:00:00Z');

describe('cursor edges', () => {
  it('takes no cursor from a missing or unreadable stored value', () => {
    expect(trustedCursor(null, NOW)).toEqual({ cursorMs: undefined });
    expect(trustedCursor('not a date', NOW)).toEqual({ cursorMs: undefined });
    expect(trustedCursor('', NOW)).toEqual({ cursorMs: undefined });
  });

  it('trusts a cursor up to CURSOR_SLACK_MS ahead of Twilio’s clock, not a millisecond more', () => {
    const at = (ms: number) => new Date(ms).toISOString();
    expect(trustedCursor(at(NOW + CURSOR_SLACK_MS), NOW)).toEqual({ cursorMs: NOW + CURSOR_SLACK_MS });
    expect(trustedCursor(at(NOW + CURSOR_SLACK_MS + 1), NOW)).toEqual({
      cursorMs: undefined,
      ignored: at(NOW + CURSOR_SLACK_MS + 1),
    });
  });

  it('starts from the oldest call inside the TTL without a usable cursor', () => {
    const oldest = NOW - 30 * DAY_MS;
    expect(startCursor(undefined, NOW, 30)).toBe(oldest);
    expect(startCursor(Number.NaN, NOW, 30)).toBe(oldest);
    expect(startCursor(Number.POSITIVE_INFINITY, NOW, 30)).toBe(oldest);
    expect(startCursor(oldest - 1, NOW, 30)).toBe(oldest);
    expect(startCursor(oldest + 1, NOW, 30)).toBe(oldest + 1);
    expect(startCursor(undefined, NOW + 999, 0)).toBe(NOW); // the oldest instant is floored to the second
  });

  it('ends every window on a whole second after the cursor, at least a second on, never past the end', () => {
    expect(nextWindow(NOW + 1500, NOW + 60_000, 0)).toEqual({ fromMs: NOW + 1500, toMs: NOW + 2000 });
    expect(nextWindow(NOW + 1500, NOW + 60_000, 10)).toEqual({ fromMs: NOW + 1500, toMs: NOW + 2000 });
    expect(nextWindow(NOW + 1999, NOW + 60_000, 1000)).toEqual({ fromMs: NOW + 1999, toMs: NOW + 2000 });
    expect(nextWindow(NOW, NOW + 600, 60_000)).toEqual({ fromMs: NOW, toMs: NOW + 600 });
    expect(nextWindow(NOW + 600, NOW + 600, 60_000)).toBeUndefined();
  });
});
