/**
 * `npm run bench [-- [--json] [name...]]`: runs the benchmarks in scripts/bench/ (all by default). Each one measures
 * its subject and a baseline in the same run and prints their ratio, because these machines are shared and noisy.
 * With --json, stdout carries one JSON object per benchmark result (scripts/lib/bench-report.ts).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { useJsonOutput } from './lib/bench-report';

async function main(): Promise<void> {
  const dir = join(__dirname, 'bench');
  const args = process.argv.slice(2);
  if (args.includes('--json')) useJsonOutput((line) => process.stdout.write(`${line}\n`));
  const wanted = args.filter((arg) => arg !== '--json');
  const names = readdirSync(dir)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.replace(/\.ts$/, ''))
    .filter((name) => wanted.length === 0 || wanted.includes(name));
  if (names.length === 0) throw new Error(`no benchmark matches ${wanted.join(', ')}`);
  for (const name of names) {
    console.log(`\n=== bench: ${name} ===`);
    const bench = (await import(join(dir, `${name}.ts`))) as { run: () => Promise<void> };
    await bench.run();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
