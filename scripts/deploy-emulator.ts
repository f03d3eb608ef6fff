/**
 * `npm run deploy:emulator`: rehearses `npm run deploy` against a running emulator (`npm run emulator`, or
 * EMULATOR_URL). Builds first (like npm run deploy), writes .env.emulator from the emulator's config (git-ignored,
 * never your .env), runs the real twilio-run deploy through the emulator's proxy, then prints the deployed domain and
 * how to call it, or why the build failed. See docs/deploy.md.
 */
import { join } from 'node:path';
import { EmulatorAdmin } from '../emulator/admin-client';
import { deployToEmulator, rehearsalEnv, writeRehearsalEnvFile } from './lib/deploy-rehearsal';

async function main(): Promise<void> {
  const emulatorUrl = (process.env.EMULATOR_URL ?? `http://127.0.0.1:${process.env.EMULATOR_PORT ?? 3001}`).replace(
    /\/+$/,
    '',
  );
  const admin = new EmulatorAdmin(emulatorUrl);
  const config = await admin.config().catch(() => {
    throw new Error(`no emulator answers at ${emulatorUrl}: start one with npm run emulator (or set EMULATOR_URL)`);
  });
  const envFile = join(__dirname, '..', '.env.emulator');
  writeRehearsalEnvFile(envFile, rehearsalEnv(config));
  const result = await deployToEmulator({ emulatorUrl, envFile, echo: true });
  const { services } = await admin.serverless();
  const builds = services.flatMap((s) => s.builds);
  const last = builds[builds.length - 1];
  if (result.code !== 0) {
    if (last?.failure) console.error(`\nThe emulator's build ${last.sid} failed: ${last.failure}`);
    process.exit(result.code);
  }
  const environment = services.flatMap((s) => s.environments).find((e) => e.buildSid === last?.sid);
  console.log(`
Deployed to the emulator: https://${environment?.domainName ?? '?'} (build ${last?.sid}, runtime ${last?.runtime}).
Call it through the emulator's proxy, trusting this run's CA:
  curl -s ${emulatorUrl}/__admin/config | node -e "process.stdout.write(JSON.parse(require('fs').readFileSync(0)).caPem)" > /tmp/emulator-ca.pem
  curl --proxy ${config.proxyUrl} --cacert /tmp/emulator-ca.pem https://${environment?.domainName ?? '<domain>'}/index.html`);
}

main().catch((error) => {
  console.error(`deploy:emulator: ${(error as Error).message}`);
  process.exit(1);
});
