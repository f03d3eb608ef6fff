/**
 * Machine-readable benchmark results. `npm run bench -- --json` prints one JSON object per benchmark on its own line
 * of stdout (`{"bench": "<name>", …figures}`), and the human-readable tables go to stderr instead.
 */
let jsonOutput: ((line: string) => void) | undefined;

/** Called once by scripts/bench.ts for --json: results go to `write`, everything else printed goes to stderr. */
export function useJsonOutput(write: (line: string) => void): void {
  jsonOutput = write;
  console.log = (...args: unknown[]) => console.error(...args);
}

export type BenchResult = { bench: string } & Record<string, number | string | boolean | null>;

/** Reports one benchmark's figures (rounded to 4 significant digits); a no-op unless --json was given. */
export function reportBench(result: BenchResult): void {
  if (!jsonOutput) return;
  const rounded = Object.fromEntries(
    Object.entries(result).map(([key, value]) => [
      key,
      typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value,
    ]),
  );
  jsonOutput(JSON.stringify(rounded));
}
