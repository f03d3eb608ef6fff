/** `npm run emulator`: the local Twilio emulator alone, with demo data, on EMULATOR_PORT (default 3001). */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPortFree, portFromEnv } from '../scripts/lib/ports';
import { configFromEnv } from './core/config';
import { seedDemo } from './demo';
import { startEmulator } from './server';

async function main(): Promise<void> {
  const port = portFromEnv('EMULATOR_PORT', 3001);
  await assertPortFree(port, 'EMULATOR_PORT');
  const emulator = await startEmulator({ ...configFromEnv(), port });
  const demo = seedDemo(emulator);
  const c = emulator.config;
  // Proxy mode: this run's CA, in a file Node can be pointed at (NODE_EXTRA_CA_CERTS is read once, at start).
  const caFile = join(tmpdir(), `flex-sync-emulator-ca-${port}.pem`);
  writeFileSync(caFile, emulator.proxy.ca.certPem);
  console.log(`Twilio emulator listening on ${emulator.url}
  account ${c.accountSid} / auth token ${c.authToken}
  API key ${c.apiKey} / secret ${c.apiSecret}
  Sync service ${c.syncServiceSid}, TaskRouter workspace ${c.workspaceSid}
  demo data: ${demo.agents.length} agents, ${demo.calls} calls, ${demo.events} events
  admin API: ${emulator.url}/__admin/config (see docs/emulator.md)
  proxy mode (https://*.twilio.com and *.twil.io, anything else refused; see docs/deploy.md):
    export HTTP_PROXY=${emulator.url} NODE_EXTRA_CA_CERTS=${caFile}
  deploy rehearsal: npm run deploy:emulator`);
  const stop = () => {
    rmSync(caFile, { force: true });
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(`emulator: ${(error as Error).message}`);
  process.exit(1);
});
