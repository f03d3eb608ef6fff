/**
 * `npm run setup`: provisions what the functions need, against the real account when real credentials are
 * configured (ACCOUNT_SID / AUTH_TOKEN in .env or the shell), otherwise against the local emulator. It creates or
 * reuses the Sync service (with ACLs on), checks the TaskRouter workspace, creates the job's checkpoint document,
 * checks the API key, and prints the variables for .env. Running it twice changes nothing. An existing service with
 * ACLs off is only changed with `--enable-acl`, because that locks out its other clients.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import twilio, { type Twilio } from 'twilio';
import { EMPTY_STATE } from '../src/recent-calls/checkpoint-state';
import { CHECKPOINT_DOCUMENT_NAME } from '../src/recent-calls/map-name';
import { hasStatus } from '../src/twilio/errors';
import { TwilioHttpClient } from '../src/twilio/http-client';
import { setupPushedEvents, type EventsSetupOptions } from './lib/events-setup';

export const SERVICE_FRIENDLY_NAME = 'flex-sync-functions';
const FLEX_WORKSPACE_NAME = 'Flex Task Assignment';

export type StepStatus = 'created' | 'updated' | 'reused' | 'ok' | 'missing' | 'failed';
export interface StepResult {
  step: string;
  status: StepStatus;
  detail: string;
}

export interface SetupResult {
  target: 'twilio' | 'emulator';
  steps: StepResult[];
  env: Record<string, string>;
  ok: boolean;
}

interface Target {
  kind: 'twilio' | 'emulator';
  accountSid: string;
  authToken: string;
  emulatorUrl?: string;
  /** The emulator's own service, key and workspace: the defaults of a local run. */
  defaults: { syncServiceSid?: string; workspaceSid?: string; apiKey?: string; apiSecret?: string };
}

const isSet = (value: string | undefined): value is string => typeof value === 'string' && value.trim() !== '';

async function resolveTarget(env: NodeJS.ProcessEnv): Promise<Target> {
  if (isSet(env.ACCOUNT_SID) && isSet(env.AUTH_TOKEN) && !isSet(env.TWILIO_EMULATOR_URL)) {
    return { kind: 'twilio', accountSid: env.ACCOUNT_SID, authToken: env.AUTH_TOKEN, defaults: {} };
  }
  const url = (env.TWILIO_EMULATOR_URL || `http://127.0.0.1:${env.EMULATOR_PORT || 3001}`).replace(/\/+$/, '');
  let config: Record<string, string>;
  try {
    config = (await (await fetch(`${url}/__admin/config`, { signal: AbortSignal.timeout(3000) })).json()) as Record<
      string,
      string
    >;
  } catch {
    throw new Error(
      `No real credentials (ACCOUNT_SID / AUTH_TOKEN) are configured and no emulator answers at ${url}.\n` +
        'Put your credentials in .env to set up your Twilio account, or start the emulator with `npm run emulator`.',
    );
  }
  return {
    kind: 'emulator',
    accountSid: config.accountSid,
    authToken: config.authToken,
    emulatorUrl: url,
    defaults: {
      syncServiceSid: config.syncServiceSid,
      workspaceSid: config.workspaceSid,
      apiKey: config.apiKey,
      apiSecret: config.apiSecret,
    },
  };
}

function clientFor(target: Target, username = target.accountSid, password = target.authToken): Twilio {
  const http = new TwilioHttpClient({ emulatorUrl: target.emulatorUrl });
  return twilio(username, password, { httpClient: http, accountSid: target.accountSid });
}

async function ensureSyncService(
  client: Twilio,
  wantedSid: string | undefined,
  enableAcl: boolean,
): Promise<{ result: StepResult; sid?: string }> {
  const step = 'Sync service (ACLs on)';
  let service;
  let status: StepStatus = 'reused';
  if (wantedSid) {
    try {
      service = await client.sync.v1.services(wantedSid).fetch();
    } catch (error) {
      if (hasStatus(error, 404))
        return { result: { step, status: 'failed', detail: `SYNC_SERVICE_SID ${wantedSid} does not exist` } };
      throw error;
    }
  } else {
    service = (await client.sync.v1.services.list()).find((s) => s.friendlyName === SERVICE_FRIENDLY_NAME);
    if (!service) {
      service = await client.sync.v1.services.create({ friendlyName: SERVICE_FRIENDLY_NAME, aclEnabled: true });
      status = 'created';
    }
  }
  if (!service.aclEnabled) {
    // Turning ACLs on locks out every client of this service that has no permissions: only when asked to.
    if (!enableAcl) {
      return {
        result: {
          step,
          status: 'failed',
          detail:
            `${service.sid} has ACLs off, so any Sync token can read every agent's calls. Turning them on affects every ` +
            'client of this service: rerun with `npm run setup -- --enable-acl` once you are sure',
        },
        sid: service.sid,
      };
    }
    service = await client.sync.v1.services(service.sid).update({ aclEnabled: true });
    status = 'updated';
  }
  return { result: { step, status, detail: `${service.sid} "${service.friendlyName ?? ''}"` }, sid: service.sid };
}

async function checkWorkspace(
  client: Twilio,
  wantedSid: string | undefined,
): Promise<{ result: StepResult; sid?: string }> {
  const step = 'TaskRouter workspace';
  if (wantedSid) {
    try {
      const ws = await client.taskrouter.v1.workspaces(wantedSid).fetch();
      return { result: { step, status: 'ok', detail: `${ws.sid} "${ws.friendlyName}"` }, sid: ws.sid };
    } catch (error) {
      if (hasStatus(error, 404))
        return { result: { step, status: 'failed', detail: `TWILIO_WORKSPACE_SID ${wantedSid} does not exist` } };
      throw error;
    }
  }
  const all = await client.taskrouter.v1.workspaces.list();
  const ws = all.find((w) => w.friendlyName === FLEX_WORKSPACE_NAME) ?? (all.length === 1 ? all[0] : undefined);
  if (!ws) {
    const names = all.map((w) => `${w.sid} "${w.friendlyName}"`).join(', ') || 'none';
    return { result: { step, status: 'missing', detail: `set TWILIO_WORKSPACE_SID; workspaces found: ${names}` } };
  }
  return { result: { step, status: 'ok', detail: `${ws.sid} "${ws.friendlyName}"` }, sid: ws.sid };
}

async function ensureCheckpoint(client: Twilio, serviceSid: string): Promise<StepResult> {
  const step = 'Checkpoint document';
  const documents = client.sync.v1.services(serviceSid).documents;
  try {
    const doc = await documents(CHECKPOINT_DOCUMENT_NAME).fetch();
    return { step, status: 'reused', detail: `${doc.sid} "${CHECKPOINT_DOCUMENT_NAME}"` };
  } catch (error) {
    if (!hasStatus(error, 404)) throw error;
  }
  const doc = await documents.create({ uniqueName: CHECKPOINT_DOCUMENT_NAME, data: EMPTY_STATE });
  return { step, status: 'created', detail: `${doc.sid} "${CHECKPOINT_DOCUMENT_NAME}"` };
}

async function checkApiKey(
  target: Target,
  serviceSid: string,
  apiKey?: string,
  apiSecret?: string,
): Promise<StepResult> {
  const step = 'API key (signs Sync tokens)';
  if (!apiKey || !apiSecret) {
    return {
      step,
      status: 'missing',
      detail:
        'create one (Console > API keys, or `twilio api:core:keys:create --friendly-name flex-sync-functions`) and set API_KEY / API_SECRET',
    };
  }
  try {
    await clientFor(target, apiKey, apiSecret).sync.v1.services(serviceSid).fetch();
    return { step, status: 'ok', detail: `${apiKey} authenticates` };
  } catch (error) {
    if (hasStatus(error, 401))
      return { step, status: 'failed', detail: `${apiKey} with API_SECRET was refused (20003)` };
    throw error;
  }
}

export interface SetupOptions {
  /** Turn ACLs on for an existing service that has them off (it affects every client of that service). */
  enableAcl?: boolean;
  /** Also point TaskRouter's pushed events at /taskrouter-events (scripts/lib/events-setup.ts). */
  events?: Pick<EventsSetupOptions, 'mode' | 'baseUrl' | 'force' | 'requireBasic' | 'envFile'>;
}

export async function runSetup(env: NodeJS.ProcessEnv = process.env, options: SetupOptions = {}): Promise<SetupResult> {
  const target = await resolveTarget(env);
  const client = clientFor(target);
  const steps: StepResult[] = [];
  const service = await ensureSyncService(
    client,
    env.SYNC_SERVICE_SID || target.defaults.syncServiceSid,
    options.enableAcl ?? false,
  );
  steps.push(service.result);
  const workspace = await checkWorkspace(client, env.TWILIO_WORKSPACE_SID || target.defaults.workspaceSid);
  steps.push(workspace.result);
  const apiKey = env.API_KEY || target.defaults.apiKey;
  if (service.sid) {
    steps.push(await ensureCheckpoint(client, service.sid));
    steps.push(await checkApiKey(target, service.sid, apiKey, env.API_SECRET || target.defaults.apiSecret));
  }
  const out: Record<string, string> = {};
  if (options.events) {
    const pushed = await setupPushedEvents(client, {
      ...options.events,
      workspaceSid: workspace.sid,
      username: env.TASKROUTER_EVENTS_USERNAME || undefined,
      secret: env.TASKROUTER_EVENTS_SECRET || undefined,
    });
    steps.push(...pushed.steps);
    Object.assign(out, pushed.env);
  }
  if (service.sid) out.SYNC_SERVICE_SID = service.sid;
  if (workspace.sid) out.TWILIO_WORKSPACE_SID = workspace.sid;
  if (apiKey) out.API_KEY = apiKey;
  return { target: target.kind, steps, env: out, ok: steps.every((s) => !['failed', 'missing'].includes(s.status)) };
}

function print(result: SetupResult): void {
  console.log(`Setting up against ${result.target === 'twilio' ? 'your Twilio account' : 'the local emulator'}:\n`);
  for (const s of result.steps) console.log(`  ${s.status.padEnd(8)} ${s.step.padEnd(30)} ${s.detail}`);
  console.log('\nPut these in .env (API_SECRET is the secret shown once when the key was created):\n');
  for (const [name, value] of Object.entries(result.env)) console.log(`${name}=${value}`);
  if (!result.ok) console.log('\nSome steps need your attention (see "missing" / "failed" above).');
}

if (require.main === module) {
  const envFile = join(process.cwd(), '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  const args = process.argv.slice(2);
  const usage =
    'usage: npm run setup [-- --enable-acl] [--events callback|streams --url <public base URL> [--force] [--require-basic]]';
  const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const flags = new Set(['--enable-acl', '--force', '--require-basic']);
  const unknown = args.filter(
    (arg, i) => !flags.has(arg) && !['--events', '--url'].includes(arg) && !['--events', '--url'].includes(args[i - 1]),
  );
  const mode = value('--events');
  const url = value('--url');
  if (
    unknown.length > 0 ||
    (mode !== undefined && mode !== 'callback' && mode !== 'streams') ||
    (mode !== undefined) !== (url !== undefined)
  ) {
    console.error(
      `setup: ${unknown.length > 0 ? `unknown argument ${unknown[0]}` : '--events needs callback or streams, with --url'}\n${usage}`,
    );
    process.exit(2);
  }
  const events = mode
    ? {
        mode: mode as 'callback' | 'streams',
        baseUrl: url!,
        force: args.includes('--force'),
        requireBasic: args.includes('--require-basic'),
        envFile,
      }
    : undefined;
  runSetup(process.env, { enableAcl: args.includes('--enable-acl'), events })
    .then((result) => {
      print(result);
      process.exit(result.ok ? 0 : 1);
    })
    .catch((error) => {
      console.error(`setup: ${(error as Error).message}`);
      process.exit(1);
    });
}
