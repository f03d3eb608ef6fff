/** Builds the functions once before the suite, so integration tests run exactly what `npm run deploy` ships. */
import { buildClient, buildFunctions } from '../scripts/build';

export default async function globalSetup(): Promise<void> {
  await Promise.all([buildFunctions(), buildClient()]);
}
