/** The job's position in time (pure): where a run starts, its windows, where the cursor moves, which cursor is trusted. */
import fc from 'fast-check';
import {
  commitCursor,
  CURSOR_SLACK_MS,
  floorToSecond,
  nextWindow,
  safeEnd,
  startCursor,
  trustedCursor,
} from '../../../src/recent-calls/cursor';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-10T12:00:00.750Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('startCursor', () => {
  it('backfills from the oldest instant still inside the TTL window (whole seconds)', () => {
    expect(startCursor(undefined, NOW, 30)).toBe(floorToSecond(NOW - 30 * DAY));
  });
  it('keeps a recent checkpoint, and skips ahead of one older than the TTL window', () => {
    expect(startCursor(NOW - 3600_000, NOW, 30)).toBe(NOW - 3600_000);
    expect(startCursor(NOW - 45 * DAY, NOW, 30)).toBe(floorToSecond(NOW - 30 * DAY));
  });
});

describe('safeEnd and nextWindow', () => {
  it('leaves the last `lag` seconds for the next run', () => {
    expect(safeEnd(NOW, 60)).toBe(Date.parse('2026-03-10T11:59:00.000Z'));
  });
  it('gives whole-second window ends, never past the safe end, and nothing once caught up', () => {
    const end = safeEnd(NOW, 60);
    expect(nextWindow(end - 10 * DAY, end, DAY)).toEqual({ fromMs: end - 10 * DAY, toMs: end - 9 * DAY });
    expect(nextWindow(end - 1000.5, end, DAY)).toEqual({ fromMs: end - 1000.5, toMs: end });
    expect(nextWindow(end, end, DAY)).toBeUndefined();
    expect(nextWindow(end + 5, end, DAY)).toBeUndefined();
  });
  it('always moves forward, even for a cursor with milliseconds and a tiny window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 * DAY }),
        fc.integer({ min: 1, max: 10 * DAY }),
        fc.integer({ min: 0, max: 5 * DAY }),
        (c, span, w) => {
          const end = floorToSecond(NOW);
          const cursor = end - span + (c % 1000);
          const window = nextWindow(cursor, end, w);
          if (cursor >= end) return window === undefined;
          return window !== undefined && window.toMs > window.fromMs && window.toMs <= end && window.toMs % 1000 === 0;
        },
      ),
    );
  });
});

describe('commitCursor', () => {
  const window = { fromMs: 1_000, toMs: 10_000 };
  const rec = (t: number, ok: boolean) => ({ eventDateMs: t, ok });

  it('moves to the window end when every record is committed', () => {
    expect(commitCursor([rec(2000, true), rec(3000, true)], (r) => r.ok, window)).toBe(10_000);
    expect(commitCursor([], () => false, window)).toBe(10_000);
  });
  it('stops at the first uncommitted record, even when later ones are committed', () => {
    expect(commitCursor([rec(2000, true), rec(3000, false), rec(4000, true)], (r) => r.ok, window)).toBe(3000);
  });
  it('never passes uncommitted work, and everything before the cursor is committed (any outcome pattern)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1000, max: 9999 }), fc.boolean()), { maxLength: 60 }),
        (pairs) => {
          const records = pairs.map(([t, ok]) => rec(t, ok)).sort((a, b) => a.eventDateMs - b.eventDateMs);
          const cursor = commitCursor(records, (r) => r.ok, window);
          const uncommittedBefore = records.some((r) => !r.ok && r.eventDateMs < cursor);
          const uncommittedSkipped = records.some((r) => !r.ok) && cursor === window.toMs;
          return !uncommittedBefore && !uncommittedSkipped && cursor >= window.fromMs && cursor <= window.toMs;
        },
      ),
    );
  });
});

describe('trustedCursor', () => {
  it('a cursor in the past (or within the clock slack) is trusted', () => {
    for (const at of [NOW - 30 * DAY, NOW - 60_000, NOW + 1000, NOW + CURSOR_SLACK_MS]) {
      expect(trustedCursor(iso(at), NOW)).toEqual({ cursorMs: at });
    }
    expect(trustedCursor(null, NOW)).toEqual({ cursorMs: undefined });
  });

  it("a cursor ahead of Twilio's clock by more than the slack is ignored (as if absent), never used to skip calls", () => {
    for (const at of [NOW + CURSOR_SLACK_MS + 1, NOW + 60_000, NOW + DAY, Date.parse('2099-01-01T00:00:00.000Z')]) {
      expect(trustedCursor(iso(at), NOW)).toEqual({ cursorMs: undefined, ignored: iso(at) });
    }
  });

  it('the slack is 5 s: clock estimates that differ by a few seconds agree, a cursor a little further ahead does not', () => {
    expect(trustedCursor(iso(NOW + 5000), NOW)).toEqual({ cursorMs: NOW + 5000 });
    expect(trustedCursor(iso(NOW + 5001), NOW)).toEqual({ cursorMs: undefined, ignored: iso(NOW + 5001) });
  });

  it('an unparseable cursor is no cursor', () => {
    expect(trustedCursor('yesterday', NOW)).toEqual({ cursorMs: undefined });
  });
});
