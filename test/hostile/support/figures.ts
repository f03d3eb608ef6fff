/**
 * Each hostile test file records its figures in test-artifacts/hostile/<name>.json; the summary reporter
 * (summary-reporter.js) prints them as one plain-text table at the end of the run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIGURES_DIR = join(__dirname, '..', '..', '..', 'test-artifacts', 'hostile');

export interface FigureRow {
  /** What is counted, as printed. */
  label: string;
  value: number | string;
  /** Expected value, when the row is a pass/fail check (printed next to it). */
  expect?: string;
  ok?: boolean;
}

export interface FigureSection {
  title: string;
  rows: FigureRow[];
  notes?: string[];
}

export function writeFigures(name: string, sections: FigureSection[]): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  writeFileSync(
    join(FIGURES_DIR, `${name}.json`),
    JSON.stringify({ name, writtenAt: new Date().toISOString(), sections }, null, 2),
  );
}

/** The failing cases of a run, in full, next to the figures (test-artifacts/hostile/<name>-failures.txt). */
export function writeFailures(name: string, lines: string[]): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  writeFileSync(join(FIGURES_DIR, `${name}-failures.txt`), `${lines.join('\n')}\n`);
}

/** A seeded PRNG (mulberry32) for the fault plan: runs are reproducible from the printed seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The run's seed: HOSTILE_SEED when set (to replay a failure), else a fresh one. */
export function suiteSeed(): number {
  const fromEnv = Number(process.env.HOSTILE_SEED);
  return Number.isSafeInteger(fromEnv) && process.env.HOSTILE_SEED !== ''
    ? fromEnv
    : Math.floor(Math.random() * 2 ** 31);
}
