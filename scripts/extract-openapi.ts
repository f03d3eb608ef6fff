/**
 * `npm run specs:extract -- --from <twilio-oai checkout>/spec/json`
 *
 * Rewrites test/contract/twilio-oai/*.json: each official spec cut down to the operations the emulator serves today
 * (read from its router) and the schemas they reference. Run it after the emulator serves a new route or family (add
 * the family to SPEC_FAMILIES first), from a checkout of https://github.com/twilio/twilio-oai at the commit named in
 * test/contract/twilio-oai/SOURCE.md (or a newer one: then update SOURCE.md).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Emulator } from '../emulator/server';
import { EXTRACTED_SPEC_DIR, SPEC_FAMILIES, extractSpec } from './lib/openapi-extract';

function main(): void {
  const flag = process.argv.indexOf('--from');
  const from = flag >= 0 ? process.argv[flag + 1] : undefined;
  if (!from || !existsSync(from)) {
    console.error('usage: npm run specs:extract -- --from <twilio-oai checkout>/spec/json');
    process.exit(2);
  }
  const emulator = new Emulator(); // not listening: only its route table is read
  const outDir = resolve(__dirname, '..', EXTRACTED_SPEC_DIR);
  for (const { file, family } of SPEC_FAMILIES) {
    const routes = emulator.router.routes.filter((route) => route.family === family);
    const source = join(from, file);
    const full = readFileSync(source, 'utf8');
    const extracted = `${JSON.stringify(extractSpec(JSON.parse(full), routes), null, 1)}\n`;
    writeFileSync(join(outDir, file), extracted);
    const kb = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;
    console.log(`${file}: ${routes.length} routes, ${kb(full.length)} -> ${kb(extracted.length)}`);
  }
}

main();
