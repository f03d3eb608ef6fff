/**
 * The admin API under /__admin/ (JSON in and out, no Twilio auth, loopback only): how tests and outside tools drive
 * the emulator. Routes and bodies are listed in docs/emulator.md.
 *
 * It is the emulator's own API (not a model of Twilio), and it hands out the emulator's credentials, so it guards
 * itself against the web pages a developer visits (`adminRefusal`):
 * - the Host must be a loopback name (localhost, 127.x, [::1]): a DNS-rebinding page reaches 127.0.0.1 under its own
 *   host name and is refused, so it cannot read /__admin/config;
 * - an Origin, when sent, must be a loopback origin, and only those get CORS grants: another site's page is refused;
 * - a POST must be `Content-Type: application/json`, which a browser cannot send cross-origin without a preflight,
 *   so a "simple" cross-origin form or text/plain POST cannot reset or reseed the emulator.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest, TwilioError } from '../core/errors';
import { parseFaults } from '../core/faults';
import type { EmuRequest, Router } from '../core/router';
import { seed } from '../seed';
import type { Emulator } from '../server';
import { mintFlexToken } from './iam';

const MAX_SEED_AGENTS = 5000;
const MAX_SEED_CALLS_PER_AGENT = 1000;

function body(req: EmuRequest): Record<string, unknown> {
  const json = req.json ?? {};
  if (typeof json !== 'object' || Array.isArray(json) || json === null) throw badRequest('Body must be a JSON object');
  return json as Record<string, unknown>;
}

function integer(value: unknown, name: string, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function number(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw badRequest(`${name} must be a number from ${min} to ${max}`);
  }
  return value;
}

const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i;
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i;

/** Why an admin request must be refused before any route runs (403 / 415), or undefined. */
export function adminRefusal(method: string, headers: IncomingHttpHeaders): TwilioError | undefined {
  if (!LOOPBACK_HOST.test(headers.host ?? '')) {
    return new TwilioError(403, 20403, 'Admin API answers only requests addressed to localhost, 127.x or [::1]');
  }
  if (headers.origin !== undefined && !LOOPBACK_ORIGIN.test(headers.origin)) {
    return new TwilioError(403, 20403, 'Admin API answers only pages served from a loopback origin');
  }
  const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (method === 'POST' && type !== 'application/json') {
    return new TwilioError(415, 20415, 'Admin API POSTs must be Content-Type: application/json');
  }
  return undefined;
}

/** CORS grants for a loopback origin (npm start's page calls the admin API from the browser); none for others. */
export function adminCorsHeaders(origin: string | undefined): Record<string, string> {
  if (!origin || !LOOPBACK_ORIGIN.test(origin)) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type',
    Vary: 'Origin',
  };
}

export function registerAdmin(router: Router, emu: Emulator): void {
  const add = (method: string, path: string, handler: (req: EmuRequest) => unknown) =>
    router.add('admin', method, path, (req) => ({ status: 200, body: handler(req) }), true);

  const configView = () => ({
    accountSid: emu.config.accountSid,
    authToken: emu.config.authToken,
    apiKey: emu.config.apiKey,
    apiSecret: emu.config.apiSecret,
    syncServiceSid: emu.config.syncServiceSid,
    workspaceSid: emu.config.workspaceSid,
    writeRatePerSecond: emu.config.writeRatePerSecond,
    writeBurstSeconds: emu.config.writeBurstSeconds,
    readRatePerSecond: emu.config.readRatePerSecond,
    permissionRatePerSecond: emu.config.permissionRatePerSecond,
    sweepLagSeconds: emu.config.sweepLagSeconds,
    accountConcurrency: emu.config.accountConcurrency,
    eventsOrder: emu.config.eventsOrder,
    callsTimeFilter: emu.config.callsTimeFilter,
    clockOffsetSeconds: emu.clock.offsetSeconds,
    now: new Date(emu.clock.now()).toISOString(),
    // Proxy mode (emulator/proxy/): HTTP_PROXY for clients, and the CA they must trust (this run's own).
    proxyUrl: emu.url,
    caPem: emu.proxy.ca.certPem,
  });

  add('GET', '/__admin/config', configView);

  /**
   * Changes the limits at run time: {writeRatePerSecond?, writeBurstSeconds?, readRatePerSecond?,
   * permissionRatePerSecond?, sweepLagSeconds?, accountConcurrency?, eventsOrder?, callsTimeFilter?}.
   */
  add('POST', '/__admin/config', (req) => {
    const b = body(req);
    const limits: Parameters<Emulator['setLimits']>[0] = {};
    if (b.writeRatePerSecond !== undefined)
      limits.writeRatePerSecond = number(b.writeRatePerSecond, 'writeRatePerSecond', 0, 100_000);
    if (b.writeBurstSeconds !== undefined)
      limits.writeBurstSeconds = number(b.writeBurstSeconds, 'writeBurstSeconds', 0, 3600);
    if (b.readRatePerSecond !== undefined)
      limits.readRatePerSecond = number(b.readRatePerSecond, 'readRatePerSecond', 0, 100_000);
    if (b.permissionRatePerSecond !== undefined) {
      limits.permissionRatePerSecond = number(b.permissionRatePerSecond, 'permissionRatePerSecond', 0, 100_000);
    }
    if (b.sweepLagSeconds !== undefined) limits.sweepLagSeconds = number(b.sweepLagSeconds, 'sweepLagSeconds', 0, 1e9);
    if (b.accountConcurrency !== undefined) {
      limits.accountConcurrency = number(b.accountConcurrency, 'accountConcurrency', 0, 10_000);
    }
    if (b.eventsOrder !== undefined) {
      if (b.eventsOrder !== 'newest' && b.eventsOrder !== 'oldest' && b.eventsOrder !== 'shuffled')
        throw badRequest('eventsOrder must be newest, oldest or shuffled');
      limits.eventsOrder = b.eventsOrder;
    }
    if (b.callsTimeFilter !== undefined) {
      if (b.callsTimeFilter !== 'exact' && b.callsTimeFilter !== 'day')
        throw badRequest('callsTimeFilter must be exact or day');
      limits.callsTimeFilter = b.callsTimeFilter;
    }
    emu.setLimits(limits);
    return configView();
  });

  add('POST', '/__admin/reset', () => {
    emu.reset();
    return { reset: true };
  });

  add('POST', '/__admin/seed', (req) => {
    const b = body(req);
    return seed(emu, {
      agents: integer(b.agents, 'agents', 1, MAX_SEED_AGENTS, 5),
      callsPerAgent: integer(b.callsPerAgent, 'callsPerAgent', 0, MAX_SEED_CALLS_PER_AGENT, 10),
      days: number(b.days ?? 40, 'days', 0, 365),
      enrichedOutboundShare:
        b.enrichedOutboundShare === undefined
          ? undefined
          : number(b.enrichedOutboundShare, 'enrichedOutboundShare', 0, 1),
    });
  });

  add('POST', '/__admin/flex-tokens', (req) => {
    const b = body(req);
    if (typeof b.identity !== 'string' || b.identity.length === 0)
      throw badRequest('identity must be a non-empty string');
    const roles = b.roles ?? ['agent'];
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string'))
      throw badRequest('roles must be an array of strings');
    if (b.workerSid !== undefined && b.workerSid !== null && typeof b.workerSid !== 'string') {
      throw badRequest('workerSid must be a string');
    }
    // Without an explicit workerSid, a non-guest identity gets the seeded worker whose contact_uri matches it.
    const workerSid =
      b.workerSid !== undefined
        ? (b.workerSid as string | null)
        : roles.includes('guest')
          ? null
          : ([...emu.state.taskrouter.workers.values()].find((w) => w.attributes.contact_uri === `client:${b.identity}`)
              ?.sid ?? null);
    return mintFlexToken(emu, {
      identity: b.identity,
      roles: roles as string[],
      workerSid,
      ttlSeconds: integer(b.ttlSeconds, 'ttlSeconds', -86_400, 86_400, 3600),
    });
  });

  /** The seeded workers as the demo page offers them: {agents: [{workerSid, identity, friendlyName, roles}]}. */
  add('GET', '/__admin/agents', () => ({
    agents: [...emu.state.taskrouter.workers.values()].map((w) => ({
      workerSid: w.sid,
      identity: String(w.attributes.contact_uri ?? '').replace(/^client:/, ''),
      friendlyName: w.friendlyName,
      fullName: w.attributes.full_name ?? w.friendlyName,
      roles: Array.isArray(w.attributes.roles) ? w.attributes.roles : ['agent'],
    })),
  }));

  add('POST', '/__admin/clock', (req) => {
    const b = body(req);
    emu.clock.advance(number(b.advanceSeconds, 'advanceSeconds', -1e9, 1e9));
    return { now: new Date(emu.clock.now()).toISOString(), offsetSeconds: emu.clock.offsetSeconds };
  });

  add('POST', '/__admin/faults', (req) => {
    emu.faults = parseFaults(req.json);
    return emu.faults;
  });

  add('GET', '/__admin/stats', () => emu.stats.toJSON());
}
