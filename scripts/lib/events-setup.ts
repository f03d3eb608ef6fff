/**
 * `npm run setup -- --events callback|streams --url <public base URL>`: points TaskRouter's pushed events at
 * /taskrouter-events, idempotently.
 * - callback: the workspace's EventCallbackUrl (filter `reservation.completed`). A callback that points elsewhere is
 *   never replaced without `--force` (Flex installations often use it already). `--require-basic` puts the Basic
 *   credentials in the URL and sets TASKROUTER_EVENTS_REQUIRE_BASIC=true (for accounts whose callbacks arrive unsigned).
 * - streams: a webhook sink whose destination carries the Basic credentials, and a subscription to
 *   `com.twilio.taskrouter.reservation.completed`. A sink with the same destination is reused; one for the same URL
 *   with other credentials is replaced (a sink's destination cannot be updated).
 * The secret (TASKROUTER_EVENTS_SECRET) is generated once and written to .env; later runs reuse it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Twilio } from 'twilio';

export const EVENTS_PATH = '/taskrouter-events';
export const COMPLETED_TYPE = 'com.twilio.taskrouter.reservation.completed';
const SINK_DESCRIPTION = 'flex-sync-functions recent calls';

export interface EventsSetupOptions {
  mode: 'callback' | 'streams';
  /** The functions' public base URL, e.g. https://my-service-1234-dev.twil.io */
  baseUrl: string;
  workspaceSid?: string;
  force?: boolean;
  requireBasic?: boolean;
  username?: string;
  /** The secret already configured (.env or the shell), if any. */
  secret?: string;
  /** Where a generated secret is written. */
  envFile?: string;
}

export interface EventsStep {
  step: string;
  status: 'created' | 'updated' | 'reused' | 'failed' | 'missing';
  detail: string;
}

/** A URL with its credentials hidden, for messages. */
export const withoutCredentials = (url: string): string => {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
};

/** Sets `name=value` in an .env file, replacing an existing line (commented or not), else appending. */
export function writeEnvValue(file: string, name: string, value: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const line = `${name}=${value}`;
  const pattern = new RegExp(`^#?\\s*${name}=.*$`, 'm');
  const next = pattern.test(text)
    ? text.replace(pattern, line)
    : `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
  writeFileSync(file, next, { mode: 0o600 });
}

function endpoint(baseUrl: string): URL {
  const url = new URL(baseUrl.replace(/\/+$/, '') + EVENTS_PATH);
  const local = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local))
    throw new Error('--url must be https:// (http only for localhost)');
  if (url.username || url.password || url.search || url.hash)
    throw new Error('--url is a base URL: no credentials, query or fragment');
  return url;
}

function credentialed(url: URL, username: string, secret: string): string {
  const u = new URL(url.toString());
  u.username = username;
  u.password = secret;
  return u.toString();
}

export async function setupPushedEvents(
  client: Twilio,
  options: EventsSetupOptions,
): Promise<{ steps: EventsStep[]; env: Record<string, string> }> {
  const url = endpoint(options.baseUrl);
  const username = options.username ?? 'taskrouter';
  const steps: EventsStep[] = [];
  const env: Record<string, string> = {};
  const needsSecret = options.mode === 'streams' || options.requireBasic;
  let secret = options.secret;
  if (needsSecret) {
    if (!secret) {
      secret = randomBytes(24).toString('base64url');
      if (options.envFile) writeEnvValue(options.envFile, 'TASKROUTER_EVENTS_SECRET', secret);
      steps.push({
        step: 'Events secret',
        status: 'created',
        detail: `TASKROUTER_EVENTS_SECRET generated${options.envFile ? ` and written to ${options.envFile}` : ''}`,
      });
    } else {
      steps.push({ step: 'Events secret', status: 'reused', detail: 'TASKROUTER_EVENTS_SECRET from the environment' });
    }
  }

  if (options.mode === 'callback') {
    const step = 'Workspace EventCallbackUrl';
    if (!options.workspaceSid)
      return {
        steps: [...steps, { step, status: 'missing', detail: 'no TaskRouter workspace (set TWILIO_WORKSPACE_SID)' }],
        env,
      };
    if (options.requireBasic) {
      if (options.envFile) writeEnvValue(options.envFile, 'TASKROUTER_EVENTS_REQUIRE_BASIC', 'true');
      env.TASKROUTER_EVENTS_REQUIRE_BASIC = 'true';
    }
    const wanted = options.requireBasic ? credentialed(url, username, secret!) : url.toString();
    const workspace = client.taskrouter.v1.workspaces(options.workspaceSid);
    const current = (await workspace.fetch()).eventCallbackUrl ?? '';
    if (current === wanted)
      return { steps: [...steps, { step, status: 'reused', detail: withoutCredentials(current) }], env };
    const ours = current !== '' && withoutCredentials(current) === withoutCredentials(wanted);
    if (current !== '' && !ours && !options.force) {
      const detail = `already points elsewhere (${withoutCredentials(current)}); left as it is. Rerun with --force to replace it, or use --events streams`;
      return { steps: [...steps, { step, status: 'failed', detail }], env };
    }
    await workspace.update({ eventCallbackUrl: wanted, eventsFilter: 'reservation.completed' });
    const detail = `${withoutCredentials(wanted)} (reservation.completed)${current && !ours ? `, replacing ${withoutCredentials(current)}` : ''}`;
    return { steps: [...steps, { step, status: current === '' ? 'created' : 'updated', detail }], env };
  }

  const destination = credentialed(url, username, secret!);
  const events = client.events.v1;
  const sinks = (await events.sinks.list()).filter((s) => s.sinkType === 'webhook');
  const destinationOf = (s: (typeof sinks)[number]) =>
    String((s.sinkConfiguration as { destination?: unknown })?.destination ?? '');
  let sink = sinks.find((s) => destinationOf(s) === destination);
  let sinkStatus: EventsStep['status'] = 'reused';
  if (!sink) {
    for (const old of sinks.filter((s) => withoutCredentials(destinationOf(s)) === withoutCredentials(destination))) {
      await events.sinks(old.sid).remove();
      sinkStatus = 'updated';
    }
    sink = await events.sinks.create({
      description: SINK_DESCRIPTION,
      sinkType: 'webhook',
      sinkConfiguration: { destination, method: 'POST', batch_events: true },
    });
    if (sinkStatus !== 'updated') sinkStatus = 'created';
  }
  steps.push({
    step: 'Event Streams sink',
    status: sinkStatus,
    detail: `${sink.sid} -> ${withoutCredentials(destination)}`,
  });
  const subscriptions = await events.subscriptions.list({ sinkSid: sink.sid });
  let subscribed = false;
  for (const sub of subscriptions) {
    const types = await events.subscriptions(sub.sid).subscribedEvents.list();
    if (types.some((t) => t.type === COMPLETED_TYPE)) subscribed = true;
  }
  if (subscribed) {
    steps.push({ step: 'Event Streams subscription', status: 'reused', detail: COMPLETED_TYPE });
  } else {
    const sub = await events.subscriptions.create({
      description: SINK_DESCRIPTION,
      sinkSid: sink.sid,
      types: [{ type: COMPLETED_TYPE, schema_version: 1 }],
    });
    steps.push({ step: 'Event Streams subscription', status: 'created', detail: `${sub.sid} ${COMPLETED_TYPE}` });
  }
  return { steps, env };
}
