/**
 * A fresh build of the functions for one benchmark, in a folder of its own under dist/ (inside the checkout, so the
 * bundles resolve the project's node_modules as twilio-run's would). Works on a fresh clone, where dist/ is absent.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildFunctions } from '../build';

export interface BenchBuild {
  /** The built functions, for twilio-run's --functions-folder. */
  functionsDir: string;
  remove(): void;
}

export async function buildForBench(prefix: string): Promise<BenchBuild> {
  const dist = join(__dirname, '..', '..', 'dist');
  mkdirSync(dist, { recursive: true });
  const dir = mkdtempSync(join(dist, `${prefix}-`));
  const functionsDir = join(dir, 'functions');
  await buildFunctions(functionsDir);
  return { functionsDir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
