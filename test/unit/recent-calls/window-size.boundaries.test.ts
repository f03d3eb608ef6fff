/** Window lengths at their edges: untrusted saved lengths, overflow over finishing, windows shorter than asked. */
import {
  adaptWindow,
  INITIAL_WINDOW_MS,
  initialWindow,
  MIN_WINDOW_MS,
  windowAfterOverflow,
  windowAhead,
  windowAfterWrite,
} from '../../../src/recent-calls/window-size';

const MAX = 30 * 86_400_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');
const HOUR = 3_600_000;

describe('window length edges', () => {
  it('takes the saved length only when it is a positive finite number of seconds', () => {
    expect(initialWindow(7200, MAX)).toBe(7200_000);
    for (const saved of [0, -60, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, '7200' as unknown as number]) {
      expect([saved, initialWindow(saved, MAX)]).toEqual([saved, INITIAL_WINDOW_MS]);
    }
  });

  it('shrinks an overflowing window to a quarter even when it finished', () => {
    expect(adaptWindow(8 * HOUR, { overflow: true, finished: true, committedSpanMs: 8 * HOUR }, MAX)).toBe(2 * HOUR);
  });

  it('after an overflow, shrinks from the window actually read when it was shorter than the length', () => {
    const window = { fromMs: T0, toMs: T0 + 2 * HOUR }; // cut at the safe end: shorter than the 8 h asked
    expect(windowAfterOverflow(8 * HOUR, window, MAX)).toBe(HOUR / 2);
    expect(windowAfterOverflow(HOUR, window, MAX)).toBe(HOUR / 4);
  });

  it('after writes, grows from the window actually read, and a cut run aims at twice what it committed', () => {
    const window = { fromMs: T0, toMs: T0 + 2 * HOUR };
    const base = { window, elapsedMs: 9000, budgetMs: 10_000, maxMs: MAX };
    expect(
      windowAfterWrite({ ...base, windowMs: 8 * HOUR, outcomes: [{ kind: 'written' }], cursorMs: window.toMs }),
    ).toBe(4 * HOUR);
    const cut = windowAfterWrite({
      ...base,
      windowMs: 8 * HOUR,
      outcomes: [{ kind: 'written' }, { kind: 'not-attempted' }],
      cursorMs: T0 + 40 * 60_000,
    });
    expect(cut).toBe(80 * 60_000);
    expect(cut).toBeGreaterThan(MIN_WINDOW_MS);
  });

  it('sizes the window read ahead as if the current one finishes (not quickly), from what was actually read', () => {
    const window = { fromMs: T0, toMs: T0 + 2 * HOUR };
    expect(windowAhead(8 * HOUR, window, MAX)).toBe(4 * HOUR); // the window read was 2 h, not the 8 h asked
    expect(windowAhead(HOUR, window, MAX)).toBe(2 * HOUR); // doubled from the length, not from the span
  });
});
