/** The demo data `npm start` and `npm run emulator` begin with: a few agents with calls over the last 40 days. */
import { seed, type SeedResult } from './seed';
import type { Emulator } from './server';

export const DEMO_SEED = { agents: 5, callsPerAgent: 12, days: 40 };

export function seedDemo(emulator: Emulator): SeedResult {
  return seed(emulator, DEMO_SEED);
}
