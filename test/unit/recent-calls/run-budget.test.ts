/** How a run spends its work budget (pure: a deadline on an injected clock). */
import { runBudget, writesLikelyToFinish } from '../../../src/recent-calls/run-budget';
import { Deadline } from '../../../src/twilio/deadline';

const at = (ms: number) => new Deadline(ms, () => 0);
const ends = (budget: ReturnType<typeof runBudget>) => ({
  work: budget.work.endsAt,
  writes: budget.writes.endsAt,
  reads: budget.reads.endsAt,
});

describe('runBudget', () => {
  it('stops new writes 300 ms before the work budget ends and reads 700 ms before that', () => {
    expect(ends(runBudget(at(8000), 8000))).toEqual({ work: 8000, writes: 7700, reads: 7000 });
  });
  it('keeps at most a quarter of a small budget for the writes after the reads', () => {
    expect(ends(runBudget(at(2000), 2000))).toEqual({ work: 2000, writes: 1700, reads: 1200 });
    expect(ends(runBudget(at(2800), 2800))).toEqual({ work: 2800, writes: 2500, reads: 1800 });
    expect(ends(runBudget(at(2804), 2804))).toEqual({ work: 2804, writes: 2504, reads: 1804 });
  });
  it('a work budget cut short by the invocation keeps the same margins before its own end', () => {
    expect(ends(runBudget(at(5000), 8000))).toEqual({ work: 5000, writes: 4700, reads: 4000 });
  });
});

describe('writesLikelyToFinish', () => {
  const at = (ended: number, total: number, elapsedMs: number, remainingMs: number, sample = 32) =>
    writesLikelyToFinish({ ended, total, elapsedMs, remainingMs, sample });

  it('a window of at most one round of writes is taken to finish at once', () => {
    expect(at(0, 32, 0, 100)).toBe(true);
    expect(at(0, 33, 0, 100_000)).toBe(false);
  });
  it('a larger one is judged once a round of writes has ended, at the pace so far', () => {
    expect(at(31, 100, 1000, 100_000)).toBe(false);
    // 32 ended in 320 ms: 10 ms each, 68 left need 680 ms.
    expect(at(32, 100, 320, 681)).toBe(true);
    expect(at(32, 100, 320, 680)).toBe(false);
    expect(at(50, 100, 500, 499)).toBe(false);
  });
  it('all ended: finished', () => {
    expect(at(100, 100, 5000, 0)).toBe(true);
  });
});
