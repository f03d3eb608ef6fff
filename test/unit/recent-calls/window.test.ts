/** The cursor and window logic of the sync job (pure). */
import fc from 'fast-check';
import {
  adaptWindow,
  commitCursor,
  floorToSecond,
  INITIAL_WINDOW_MS,
  initialWindow,
  MIN_WINDOW_MS,
  nextWindow,
  safeEnd,
  startCursor,
} from '../../../src/recent-calls/window';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-10T12:00:00.750Z');

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

describe('initialWindow', () => {
  const MAX = 30 * DAY;
  it('a first run (nothing saved) starts with a small window, not the whole TTL', () => {
    expect(initialWindow(null, MAX)).toBe(INITIAL_WINDOW_MS);
    expect(INITIAL_WINDOW_MS).toBeLessThanOrEqual(3600_000);
  });
  it('later runs start with the saved length, clamped to [MIN_WINDOW_MS, TTL] (the checkpoint is not trusted blindly)', () => {
    expect(initialWindow(7200, MAX)).toBe(7200_000);
    expect(initialWindow(1, MAX)).toBe(MIN_WINDOW_MS);
    expect(initialWindow(365 * 86_400, MAX)).toBe(MAX);
    expect(initialWindow(Number.NaN, MAX)).toBe(INITIAL_WINDOW_MS);
  });
});

describe('adaptWindow', () => {
  const MAX = 30 * DAY;
  it('shrinks by 4 on overflow, grows by 2 when a window finished, stays within bounds', () => {
    expect(adaptWindow(8 * DAY, { overflow: true, finished: false, committedSpanMs: 0 }, MAX)).toBe(2 * DAY);
    expect(adaptWindow(8 * DAY, { finished: true, committedSpanMs: 8 * DAY }, MAX)).toBe(16 * DAY);
    expect(adaptWindow(20 * DAY, { finished: true, committedSpanMs: 20 * DAY }, MAX)).toBe(MAX);
    expect(adaptWindow(MIN_WINDOW_MS, { overflow: true, finished: false, committedSpanMs: 0 }, MAX)).toBe(
      MIN_WINDOW_MS,
    );
  });
  it('grows by 4 when a window finished quickly (a backfill starting small reaches long windows in a few steps)', () => {
    expect(
      adaptWindow(INITIAL_WINDOW_MS, { finished: true, quick: true, committedSpanMs: INITIAL_WINDOW_MS }, MAX),
    ).toBe(4 * INITIAL_WINDOW_MS);
    let w = INITIAL_WINDOW_MS;
    let steps = 0;
    while (w < MAX && steps < 100) {
      w = adaptWindow(w, { finished: true, quick: true, committedSpanMs: w }, MAX);
      steps += 1;
    }
    expect(steps).toBeLessThanOrEqual(6);
  });
  it('after a run cut short, aims at about twice what was committed', () => {
    expect(adaptWindow(30 * DAY, { finished: false, committedSpanMs: 10 * DAY }, MAX)).toBe(20 * DAY);
    expect(adaptWindow(30 * DAY, { finished: false, committedSpanMs: 0 }, MAX)).toBe(7.5 * DAY);
  });
});
