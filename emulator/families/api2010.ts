/**
 * API 2010: the Calls list and fetch (read side), as the recent-calls job reads call durations in bulk.
 * Dates are RFC 2822, durations strings of seconds, lists newest first (by date_created: the order is unconfirmed, and
 * the job reads a list whole) with the top-level `*_page_uri` envelope.
 */
import { DAY_MS, rfc2822Date } from '../core/clock';
import { badRequest, notFound } from '../core/errors';
import { uriPageInTurns } from '../core/paging';
import type { EmuRequest, EmuResponse, Router } from '../core/router';
import type { Emulator } from '../server';

/** A Call resource (API 2010) as the emulator stores it. */
export interface CallResource {
  sid: string;
  from: string;
  to: string;
  /** `inbound`, `outbound-api` or `outbound-dial`. */
  direction: string;
  status: string;
  startTimeMs: number;
  endTimeMs: number;
  durationSeconds: number;
  parentCallSid: string | null;
  dateCreatedMs: number;
  dateUpdatedMs: number;
  /** Inbound: the number called; outbound: the caller ID used. */
  phoneNumberSid: string | null;
  /** Negative decimal string, e.g. "-0.01700"; null until priced. */
  price: string | null;
  priceUnit: string;
  queueTimeMs: number;
  callerName: string | null;
  forwardedFrom: string | null;
  answeredBy: string | null;
}

export interface CallsState {
  calls: Map<string, CallResource>;
  /** The same calls, newest first (date_created desc), as the real list answers. Add through addCalls(). */
  ordered: CallResource[];
}

export function createCallsState(_emu: Emulator): CallsState {
  return { calls: new Map(), ordered: [] };
}

export function addCalls(state: CallsState, batch: readonly CallResource[]): void {
  if (batch.length === 0) return;
  for (const call of batch) {
    state.calls.set(call.sid, call);
    state.ordered.push(call);
  }
  state.ordered.sort((a, b) => b.dateCreatedMs - a.dateCreatedMs);
}

/** Twilio's display format: North American numbers as `(305) 141-6799`, anything else unchanged. */
export function formatNumber(address: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(address);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : address;
}

function renderCall(emu: Emulator, c: CallResource) {
  const uri = `/2010-04-01/Accounts/${emu.config.accountSid}/Calls/${c.sid}`;
  const sub = (name: string) => `${uri}/${name}.json`;
  return {
    account_sid: emu.config.accountSid,
    answered_by: c.answeredBy,
    api_version: '2010-04-01',
    caller_name: c.callerName,
    date_created: rfc2822Date(c.dateCreatedMs),
    date_updated: rfc2822Date(c.dateUpdatedMs),
    direction: c.direction,
    duration: String(c.durationSeconds),
    end_time: rfc2822Date(c.endTimeMs),
    forwarded_from: c.forwardedFrom,
    from: c.from,
    from_formatted: formatNumber(c.from),
    group_sid: null,
    parent_call_sid: c.parentCallSid,
    phone_number_sid: c.phoneNumberSid,
    price: c.price,
    price_unit: c.priceUnit,
    queue_time: String(c.queueTimeMs),
    sid: c.sid,
    start_time: rfc2822Date(c.startTimeMs),
    status: c.status,
    subresource_uris: {
      notifications: sub('Notifications'),
      recordings: sub('Recordings'),
      payments: sub('Payments'),
      events: sub('Events'),
      siprec: sub('Siprec'),
      streams: sub('Streams'),
      transcriptions: sub('Transcriptions'),
      user_defined_message_subscriptions: sub('UserDefinedMessageSubscriptions'),
      user_defined_messages: sub('UserDefinedMessages'),
    },
    to: c.to,
    to_formatted: formatNumber(c.to),
    trunk_sid: null,
    uri: `${uri}.json`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Filters

/**
 * A time filter value: `YYYY-MM-DD` (what the docs describe) or a date-time (what twilio-node sends for a Date:
 * `YYYY-MM-DDTHH:mm:ssZ`). Date-only values mean midnight UTC of that day.
 */
function parseTime(raw: string, name: string): { ms: number; dateOnly: boolean } {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const ms = Date.parse(dateOnly ? `${raw}T00:00:00Z` : raw);
  if (Number.isNaN(ms)) throw badRequest(`Invalid value for ${name}: ${raw}`);
  return { ms, dateOnly };
}

type CallTest = (c: CallResource) => boolean;

/**
 * What the real list does with these filters is unconfirmed: the spec types them date-time, their descriptions say
 * "Specify a date as YYYY-MM-DD" and "started before this date", and the docs' "StartTime<=YYYY-MM-DD" means "on or
 * before midnight of that date".
 * `X>`: on or after; `X<`: on or before (inclusive);
 * `X` alone: during that UTC day (the day of the given instant for a date-time). With `byDay` (the emulator's
 * `callsTimeFilter: 'day'`), `X>` and `X<` keep only the date of a date-time: every call of the days named.
 */
function timeTests(
  req: EmuRequest,
  name: 'StartTime' | 'EndTime',
  pick: (c: CallResource) => number,
  byDay = false,
): CallTest[] {
  const tests: CallTest[] = [];
  const dayStart = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
  const after = req.query.get(`${name}>`);
  if (after) {
    const { ms } = parseTime(after, `${name}>`);
    const from = byDay ? dayStart(ms) : ms;
    tests.push((c) => pick(c) >= from);
  }
  const before = req.query.get(`${name}<`);
  if (before) {
    const { ms } = parseTime(before, `${name}<`);
    const to = byDay ? dayStart(ms) + DAY_MS - 1 : ms;
    tests.push((c) => pick(c) <= to);
  }
  const on = req.query.get(name);
  if (on) {
    const { ms } = parseTime(on, name);
    const dayStart = Math.floor(ms / DAY_MS) * DAY_MS;
    tests.push((c) => pick(c) >= dayStart && pick(c) < dayStart + DAY_MS);
  }
  return tests;
}

/** A `+` sent unencoded arrives as a space; E.164 numbers never start with one. */
const phoneParam = (value: string) => value.replace(/^ /, '+');

function callTests(req: EmuRequest, byDay: boolean): CallTest[] {
  const q = req.query;
  const tests: CallTest[] = [
    ...timeTests(req, 'StartTime', (c) => c.startTimeMs, byDay),
    ...timeTests(req, 'EndTime', (c) => c.endTimeMs, byDay),
  ];
  const to = q.get('To');
  if (to) tests.push((c) => c.to === phoneParam(to));
  const from = q.get('From');
  if (from) tests.push((c) => c.from === phoneParam(from));
  const status = q.get('Status');
  if (status) tests.push((c) => c.status === status);
  const parent = q.get('ParentCallSid');
  if (parent) tests.push((c) => c.parentCallSid === parent);
  return tests;
}

const CALL_PARAMS = [
  'To',
  'From',
  'ParentCallSid',
  'Status',
  'StartTime',
  'StartTime<',
  'StartTime>',
  'EndTime',
  'EndTime<',
  'EndTime>',
];

// ---------------------------------------------------------------------------------------------------------------
// Routes

export function registerApi2010(router: Router, emu: Emulator): void {
  const add = (method: string, pattern: string, handler: (req: EmuRequest) => EmuResponse | Promise<EmuResponse>) =>
    router.add('api', method, pattern, handler);

  /**
   * The credentials were checked before routing; an account in the path other than the emulator's is a resource
   * this caller cannot see. The real API answers 404 / 20404 "The requested resource … was not found" for such paths.
   */
  const checkAccount = (req: EmuRequest) => {
    if (req.params.AccountSid !== emu.config.accountSid) {
      throw notFound(20404, `The requested resource ${req.path} was not found`);
    }
  };

  add('GET', '/2010-04-01/Accounts/:AccountSid/Calls.json', async (req) => {
    checkAccount(req);
    const tests = callTests(req, emu.config.callsTimeFilter === 'day');
    const calls = emu.state.calls.ordered.filter((c) => tests.every((t) => t(c)));
    const filters = Object.fromEntries(CALL_PARAMS.map((n) => [n, req.query.get(n) ?? undefined]));
    return { status: 200, body: await uriPageInTurns(req, 'calls', calls, (c) => renderCall(emu, c), filters) };
  });

  add('GET', '/2010-04-01/Accounts/:AccountSid/Calls/:CallSid.json', (req) => {
    checkAccount(req);
    const call = emu.state.calls.calls.get(req.params.CallSid);
    if (!call) throw notFound(20404, `The requested resource ${req.path} was not found`);
    return { status: 200, body: renderCall(emu, call) };
  });
}
