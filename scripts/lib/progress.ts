/**
 * Progress of `npm run sync-calls`: the figures (pure, unit-tested) and two ways to show them, a progress bar on a
 * terminal (cli-progress) and one plain line per invocation elsewhere (logs, CI, pipes).
 */
import { SingleBar } from 'cli-progress';

export interface ProgressState {
  invocations: number;
  written: number;
  /** What the last invocation said is left; a lower bound when `remainingExact` is false. */
  remaining: number;
  remainingExact: boolean;
  elapsedMs: number;
}

export interface ProgressFigures {
  /** Items written per second so far. */
  rate: number;
  /** written + remaining: the bar's end (grows when `remaining` was a lower bound). */
  total: number;
  /** Seconds left at the current rate; undefined until something was written, or when `remaining` is a lower bound. */
  etaSeconds?: number;
}

export function progressFigures(state: ProgressState): ProgressFigures {
  const seconds = state.elapsedMs / 1000;
  const rate = seconds > 0 ? state.written / seconds : 0;
  const total = state.written + Math.max(0, state.remaining);
  const etaSeconds = rate > 0 && state.remainingExact ? Math.ceil(Math.max(0, state.remaining) / rate) : undefined;
  return { rate, total, etaSeconds };
}

/** 75 → "1m15s", 3700 → "1h01m", 9 → "9s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export interface ProgressReporter {
  /** After each invocation; `line` is the plain-text account of it. */
  update(state: ProgressState, line: string): void;
  /** Once, at the end: the final summary line. */
  finish(summary: string): void;
}

/** One plain line per invocation and the summary: for logs, CI and anything that is not a terminal. */
export function plainReporter(write: (line: string) => void): ProgressReporter {
  return { update: (_state, line) => write(line), finish: (summary) => write(summary) };
}

/** A live bar: written / total, rate, elapsed and ETA; the summary is printed under it at the end. */
export function barReporter(stream: NodeJS.WritableStream): ProgressReporter {
  const bar = new SingleBar({
    stream,
    // {eta} and {duration} are cli-progress's own estimates (from the bar's updates): ours use the job's figures.
    format: 'sync-calls |{bar}| {value}/{total}{more} written | {rate}/s | elapsed {spent} | ETA {left}',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
  });
  let started = false;
  const payload = (state: ProgressState) => {
    const figures = progressFigures(state);
    return {
      total: figures.total,
      payload: {
        more: state.remainingExact ? '' : '+',
        rate: figures.rate.toFixed(1),
        spent: formatDuration(state.elapsedMs / 1000),
        left: figures.etaSeconds === undefined ? '?' : formatDuration(figures.etaSeconds),
      },
    };
  };
  return {
    update(state) {
      const { total, payload: values } = payload(state);
      if (!started) {
        bar.start(Math.max(total, 1), state.written, values);
        started = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(state.written, values);
      }
    },
    finish(summary) {
      if (started) bar.stop();
      stream.write(`${summary}\n`);
    },
  };
}

/**
 * The figures of N shards driven at once, as one: invocations, written and remaining add up; `remaining` is exact
 * only when every shard's is; the elapsed time is the longest (they start together).
 */
export function sumProgress(states: readonly ProgressState[]): ProgressState {
  return {
    invocations: states.reduce((n, s) => n + s.invocations, 0),
    written: states.reduce((n, s) => n + s.written, 0),
    remaining: states.reduce((n, s) => n + Math.max(0, s.remaining), 0),
    remainingExact: states.length > 0 && states.every((s) => s.remainingExact),
    elapsedMs: states.reduce((ms, s) => Math.max(ms, s.elapsedMs), 0),
  };
}

/**
 * One reporter per shard, all feeding `target` with the shards' sum (sumProgress); a shard not heard from yet
 * counts as nothing written and an unknown remainder. Each shard's line reaches `target` as it comes.
 */
export function shardReporters(target: ProgressReporter, count: number): ProgressReporter[] {
  const states: ProgressState[] = Array.from({ length: count }, () => ({
    invocations: 0,
    written: 0,
    remaining: 0,
    remainingExact: false,
    elapsedMs: 0,
  }));
  return states.map((_, i) => ({
    update(state, line) {
      states[i] = state;
      target.update(sumProgress(states), line);
    },
    finish: () => undefined,
  }));
}
