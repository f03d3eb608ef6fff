import { rmSync } from 'node:fs';
import { dirname } from 'node:path';

export default async function globalTeardown(): Promise<void> {
  if (process.env.FUNCTIONS_DIST) rmSync(dirname(process.env.FUNCTIONS_DIST), { recursive: true, force: true });
}
