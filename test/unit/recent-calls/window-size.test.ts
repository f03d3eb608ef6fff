/** How long the job's next window is (pure). */
import {
  adaptWindow,
  INITIAL_WINDOW_MS,
  initialWindow,
  MIN_WINDOW_MS,
  windowAfterOverflow,
  windowAfterWrite,
  windowAhead,
} from '../../../src/recent-calls/window-size';
import type { WriteOutcome } from '../../../src/recent-calls/writer';

const DAY = 86_400_000;

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

describe('windowAfterOverflow', () => {
  const MAX = 30 * DAY;
  it('shrinks the shorter of the length used and the window read (a window cut by the safe end is shorter)', () => {
    expect(windowAfterOverflow(8 * DAY, { fromMs: 0, toMs: 8 * DAY }, MAX)).toBe(2 * DAY);
    expect(windowAfterOverflow(8 * DAY, { fromMs: 0, toMs: 4 * DAY }, MAX)).toBe(DAY);
    expect(windowAfterOverflow(MIN_WINDOW_MS, { fromMs: 0, toMs: MIN_WINDOW_MS }, MAX)).toBe(MIN_WINDOW_MS);
  });
});

describe('windowAfterWrite', () => {
  const MAX = 30 * DAY;
  const BUDGET = 8000;
  const window = { fromMs: 0, toMs: 4 * DAY };
  const written: WriteOutcome = { kind: 'written' };
  const notAttempted: WriteOutcome = { kind: 'not-attempted' };
  const after = (outcomes: WriteOutcome[], elapsedMs: number, cursorMs = window.toMs, windowMs = 4 * DAY) =>
    windowAfterWrite({ windowMs, window, outcomes, cursorMs, elapsedMs, budgetMs: BUDGET, maxMs: MAX });

  it('grows by 4 when every record was attempted within a quarter of the budget, by 2 when that took longer', () => {
    expect(after([written], 1999)).toBe(16 * DAY);
    expect(after([written], 2000)).toBe(8 * DAY);
    expect(after([], 0)).toBe(16 * DAY); // an empty window finished at once
  });

  it('grows by 16 after a window with no event at all, however long its read took', () => {
    const empty = (outcomes: WriteOutcome[], elapsedMs: number) =>
      windowAfterWrite({
        windowMs: DAY,
        window: { fromMs: 0, toMs: DAY },
        outcomes,
        cursorMs: DAY,
        elapsedMs,
        budgetMs: BUDGET,
        maxMs: MAX,
        empty: true,
      });
    expect(empty([], 0)).toBe(16 * DAY);
    expect(empty([], 5000)).toBe(16 * DAY);
    expect(adaptWindow(3 * DAY, { finished: true, empty: true, committedSpanMs: 3 * DAY }, MAX)).toBe(MAX);
    expect(after([], 0, window.toMs, DAY)).toBe(4 * DAY); // no records of its own (a shard's), but not empty
  });

  it('a failed record still counts as attempted: the window finished', () => {
    expect(after([written, { kind: 'failed', retryable: true, code: '54009' }], 5000, DAY)).toBe(8 * DAY);
  });

  it('cut by the budget with some of it written: aims at about twice what was committed', () => {
    expect(after([written, notAttempted], 100, DAY)).toBe(2 * DAY);
    // An item written whose map permission was not: attempted all the same.
    expect(after([{ kind: 'not-attempted', itemWritten: true }, notAttempted], 100, 0)).toBe(DAY);
  });

  it('nothing of it attempted: the cut says nothing about its length, which is kept (even above the window read)', () => {
    expect(after([notAttempted, notAttempted], 7000, 0, 10 * DAY)).toBe(10 * DAY);
  });

  it('starts from the window read when it was shorter than the length (cut by the safe end)', () => {
    expect(after([written], 5000, window.toMs, 20 * DAY)).toBe(8 * DAY);
  });
});

describe('windowAhead', () => {
  const MAX = 30 * DAY;
  it('is as long as the window after one that finishes, not quickly: twice the shorter of length and span', () => {
    expect(windowAhead(4 * DAY, { fromMs: 0, toMs: 4 * DAY }, MAX)).toBe(8 * DAY);
    expect(windowAhead(10 * DAY, { fromMs: 0, toMs: 2 * DAY }, MAX)).toBe(4 * DAY);
    expect(windowAhead(20 * DAY, { fromMs: 0, toMs: 20 * DAY }, MAX)).toBe(MAX);
  });
  it('is never longer than what the window written meanwhile can grow to', () => {
    for (const elapsedMs of [0, 1000, 5000]) {
      const window = { fromMs: 0, toMs: 3 * DAY };
      const grown = windowAfterWrite({
        windowMs: 3 * DAY,
        window,
        outcomes: [{ kind: 'written' }],
        cursorMs: window.toMs,
        elapsedMs,
        budgetMs: 8000,
        maxMs: MAX,
      });
      expect(windowAhead(3 * DAY, window, MAX)).toBeLessThanOrEqual(grown);
    }
  });
});
