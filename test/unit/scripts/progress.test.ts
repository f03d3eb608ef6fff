/** The trigger's progress figures and how they are shown on a terminal and in logs. */
import { PassThrough } from 'node:stream';
import {
  barReporter,
  formatDuration,
  plainReporter,
  progressFigures,
  shardReporters,
  sumProgress,
  type ProgressState,
} from '../../../scripts/lib/progress';

const state = { invocations: 2, written: 40, remaining: 120, remainingExact: true, elapsedMs: 8000 };

describe('progressFigures', () => {
  it('rate from written and elapsed; total and ETA from what is left', () => {
    expect(progressFigures(state)).toEqual({ rate: 5, total: 160, etaSeconds: 24 });
  });

  it('no ETA while remaining is only a lower bound, or before anything was written', () => {
    expect(progressFigures({ ...state, remainingExact: false }).etaSeconds).toBeUndefined();
    expect(progressFigures({ ...state, written: 0 })).toEqual({ rate: 0, total: 120, etaSeconds: undefined });
    expect(progressFigures({ ...state, elapsedMs: 0 }).rate).toBe(0);
  });

  it('rounds the ETA up and never goes below zero remaining', () => {
    expect(progressFigures({ ...state, remaining: 1 }).etaSeconds).toBe(1);
    expect(progressFigures({ ...state, remaining: -3 })).toMatchObject({ total: 40, etaSeconds: 0 });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [9.4, '9s'],
    [59.6, '1m00s'],
    [75, '1m15s'],
    [3599, '59m59s'],
    [3700, '1h01m'],
  ])('%s s → %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));
});

describe('reporters', () => {
  it('plain: one line per invocation, then the summary', () => {
    const lines: string[] = [];
    const reporter = plainReporter((line) => lines.push(line));
    reporter.update(state, '#1 written=40');
    reporter.finish('done after 1 invocation(s)');
    expect(lines).toEqual(['#1 written=40', 'done after 1 invocation(s)']);
  });

  it('bar: written/total, rate, elapsed and ETA on a terminal, then the summary under it', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 160 });
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const reporter = barReporter(stream);
    reporter.update({ ...state, remainingExact: false }, '#1');
    reporter.update(state, '#2');
    reporter.finish('done after 2 invocation(s)');
    expect(text).toMatch(/40\/160\+ written \| 5\.0\/s \| elapsed 8s \| ETA \?/);
    expect(text).toMatch(/40\/160 written \| 5\.0\/s \| elapsed 8s \| ETA 24s/);
    expect(text.trimEnd().endsWith('done after 2 invocation(s)')).toBe(true);
  });
});

describe('shards driven at once (--parallel)', () => {
  it('sum invocations, written and remaining; exact only when every shard is; elapsed is the longest', () => {
    const a = { invocations: 2, written: 40, remaining: 10, remainingExact: true, elapsedMs: 8000 };
    const b = { invocations: 1, written: 5, remaining: 7, remainingExact: true, elapsedMs: 9000 };
    expect(sumProgress([a, b])).toEqual({
      invocations: 3,
      written: 45,
      remaining: 17,
      remainingExact: true,
      elapsedMs: 9000,
    });
    expect(sumProgress([a, { ...b, remainingExact: false }]).remainingExact).toBe(false);
    expect(sumProgress([a, { ...b, remaining: -4 }]).remaining).toBe(10);
    expect(sumProgress([]).remainingExact).toBe(false);
  });

  it('each shard reports into one bar or log: the sum so far, with its own line', () => {
    const seen: Array<{ state: ProgressState; line: string }> = [];
    const target = { update: (state: ProgressState, line: string) => seen.push({ state, line }), finish: () => {} };
    const [first, second] = shardReporters(target, 2);
    first.update({ invocations: 1, written: 30, remaining: 5, remainingExact: true, elapsedMs: 8000 }, '[1/2] #1');
    // The second shard has not reported yet: its remainder is unknown, so the sum is a lower bound.
    expect(seen[0]).toEqual({
      state: { invocations: 1, written: 30, remaining: 5, remainingExact: false, elapsedMs: 8000 },
      line: '[1/2] #1',
    });
    second.update({ invocations: 1, written: 20, remaining: 0, remainingExact: true, elapsedMs: 8100 }, '[2/2] #1');
    expect(seen[1].state).toEqual({ invocations: 2, written: 50, remaining: 5, remainingExact: true, elapsedMs: 8100 });
    first.update({ invocations: 2, written: 35, remaining: 0, remainingExact: true, elapsedMs: 16000 }, '[1/2] #2');
    expect(seen[2].state).toMatchObject({ invocations: 3, written: 55, remaining: 0, remainingExact: true });
  });
});
