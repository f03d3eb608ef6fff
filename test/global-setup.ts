/**
 * Builds the functions once before the suite into a folder of this run's own (so two suites running at once never
 * delete each other's build), and tells every test worker where it is through FUNCTIONS_DIST.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { buildClient, buildFunctions } from '../scripts/build';

export default async function globalSetup(): Promise<void> {
  mkdirSync(join(__dirname, '..', 'dist'), { recursive: true });
  const dir = mkdtempSync(join(__dirname, '..', 'dist', 'test-run-'));
  process.env.FUNCTIONS_DIST = join(dir, 'functions');
  await Promise.all([buildFunctions(process.env.FUNCTIONS_DIST), buildClient()]);
}
