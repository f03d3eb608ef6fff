/**
 * `npm start`: the whole system on this machine. Builds the functions, starts the Twilio emulator with demo data
 * and twilio-run against it, and prints what a person needs to try it. Ctrl-C stops both.
 */
import { configFromEnv } from '../emulator/core/config';
import { seedDemo } from '../emulator/demo';
import { mintFlexToken } from '../emulator/families/iam';
import { startEmulator, type Emulator } from '../emulator/server';
import { buildClient, buildFunctions } from './build';
import { syncUntilDone } from './sync-calls';
import { startFunctionsServer, type FunctionsServer } from './lib/functions-server';
import { localFunctionEnv } from './lib/local-env';
import { assertPortFree, portFromEnv } from './lib/ports';

/** Settings a developer may set in the shell for a local run; credentials always come from the emulator. */
const PASS_THROUGH = [
  'SYNC_TOKEN_TTL',
  'SYNC_TOKEN_ALLOWED_ROLES',
  'SYNC_TOKEN_ALLOW_GUESTS',
  'FLEX_VALIDATION_CACHE_SECONDS',
  'RECENT_CALLS_TTL_DAYS',
  'SYNC_JOB_BUDGET_MS',
  'SYNC_WRITE_CONCURRENCY',
  'SYNC_MAP_WRITES_PER_SECOND',
  'RECENT_CALLS_EVENT_LAG_SECONDS',
  'RECENT_CALLS_SUPERVISOR_ROLES',
];

async function main(): Promise<void> {
  const port = portFromEnv('PORT', 3000);
  const emulatorPort = portFromEnv('EMULATOR_PORT', 3001);
  if (port === emulatorPort) throw new Error('PORT and EMULATOR_PORT must differ');
  await assertPortFree(port, 'PORT');
  await assertPortFree(emulatorPort, 'EMULATOR_PORT');

  console.log('Building functions…');
  const built = await buildFunctions();
  await buildClient();

  let emulator: Emulator | undefined;
  let functions: FunctionsServer | undefined;
  const stop = async (code: number) => {
    await functions?.stop();
    await emulator?.close();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  emulator = await startEmulator({ ...configFromEnv(), port: emulatorPort });
  const demo = seedDemo(emulator);
  const local = `http://localhost:${port}`;
  const overrides: Record<string, string> = {
    ALLOWED_ORIGINS: process.env.ALLOWED_ORIGINS ?? `https://flex.twilio.com,${local},http://127.0.0.1:${port}`,
  };
  for (const name of PASS_THROUGH) if (process.env[name]) overrides[name] = process.env[name]!;
  functions = await startFunctionsServer({ port, env: localFunctionEnv(emulator.config, emulator.url, overrides) });

  // One run of the scheduled sync (a signed request, as a scheduler sends it), so the recent-calls page has data.
  const run = await syncUntilDone({
    url: `${local}/sync-recent-calls`,
    authToken: emulator.config.authToken,
    maxInvocations: 20,
    log: () => {},
  });
  const synced = run.done
    ? `${run.totals.written} calls written to Sync`
    : `not finished (${run.error ?? 'unknown error'})`;

  // Pushed events: the emulator's workspace calls /taskrouter-events for each completed reservation (live calls only).
  emulator.state.taskrouter.workspace.eventCallbackUrl = `${local}/taskrouter-events`;
  emulator.state.taskrouter.workspace.eventsFilter = 'reservation.completed';

  const agent = demo.agents[0];
  const token = mintFlexToken(emulator, {
    identity: agent.identity,
    roles: agent.roles,
    workerSid: agent.workerSid,
    ttlSeconds: 86_400,
  }).token;
  const lines = [
    '',
    `Functions (twilio-run)   ${local}    built: ${built.join(', ')}`,
    `Twilio emulator          ${emulator.url}   (admin API: ${emulator.url}/__admin/config)`,
    `Demo data                ${demo.agents.length} agents, ${demo.calls} calls over the last 40 days`,
    `Recent-calls sync        ${synced}`,
    `Pushed events            workspace EventCallbackUrl -> ${local}/taskrouter-events (reservation.completed)`,
    `Recent-calls page        ${local}/index.html?emulator=${emulator.url}`,
    `Live view (twilio-sync)  ${local}/live.html?emulator=${emulator.url}&agent=${agent.identity}`,
    '',
    `Dev Flex token for ${agent.identity} (${agent.workerSid}), valid 24 h on this emulator:`,
    `  ${token}`,
    '',
    'Try it:',
    `  curl -s -X POST ${local}/sync-token --data-urlencode 'Token=${token}'`,
    `  AUTH_TOKEN=${emulator.config.authToken} npm run sync-calls -- --url ${local}/sync-recent-calls`,
    '',
    'Simulate a call handled now (the live view shows it a second after wrap-up: pushed, no sync run):',
    `  curl -s -X POST ${emulator.url}/__admin/live-calls -H 'Content-Type: application/json' -d '{"workerSid": "${agent.workerSid}", "talkSeconds": 3}'`,
  ];
  lines.push('', 'Ctrl-C stops both.', '');
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(`npm start: ${(error as Error).message}`);
  process.exit(1);
});
