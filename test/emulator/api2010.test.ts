/** The real twilio SDK against the emulator's API 2010 Calls: list (filters, paging) and fetch. */
import type { CallInstance } from 'twilio/lib/rest/api/v2010/account/call';
import { rejection, useEmulator } from '../helpers/emulator';
import { emulatorClient } from '../helpers/system';

const t = useEmulator();

// Every property the OpenAPI spec (twilio_api_v2010.json) documents for a Call.
const CALL_FIELDS = [
  'sid',
  'date_created',
  'date_updated',
  'parent_call_sid',
  'account_sid',
  'to',
  'to_formatted',
  'from',
  'from_formatted',
  'phone_number_sid',
  'status',
  'start_time',
  'end_time',
  'duration',
  'price',
  'price_unit',
  'direction',
  'answered_by',
  'api_version',
  'forwarded_from',
  'group_sid',
  'caller_name',
  'queue_time',
  'trunk_sid',
  'uri',
  'subresource_uris',
];
const SUBRESOURCES = [
  'notifications',
  'recordings',
  'payments',
  'events',
  'siprec',
  'streams',
  'transcriptions',
  'user_defined_message_subscriptions',
  'user_defined_messages',
];
const RFC_2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;
const DAY = 24 * 3600 * 1000;

const callsPath = () => `/2010-04-01/Accounts/${t.emulator.config.accountSid}/Calls.json`;

async function raw(pathAndQuery: string): Promise<{ status: number; body: Record<string, any> }> {
  const response = await t.client.request({ method: 'get', uri: `https://api.twilio.com${pathAndQuery}` });
  return { status: response.statusCode, body: response.body as Record<string, any> };
}

const allCalls = (params: Record<string, unknown> = {}) => t.client.calls.list({ pageSize: 1000, ...params });
const sids = (calls: CallInstance[]) => calls.map((c) => c.sid);

describe('calls list', () => {
  it('lists every seeded call newest first, with every documented field in Twilio formats', async () => {
    const seeded = await t.admin.seed({ agents: 3, callsPerAgent: 10, days: 20 });
    const calls = await allCalls();
    expect(calls).toHaveLength(seeded.calls);
    const created = calls.map((c) => c.dateCreated.getTime());
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(new Set(calls.map((c) => c.direction))).toEqual(new Set(['inbound', 'outbound-api']));

    const { body } = await raw(`${callsPath()}?PageSize=1000`);
    for (const call of body.calls) {
      for (const field of CALL_FIELDS) expect(call).toHaveProperty(field);
      for (const key of ['date_created', 'date_updated', 'start_time', 'end_time']) expect(call[key]).toMatch(RFC_2822);
      expect(call.duration).toMatch(/^\d+$/);
      expect(Number(call.duration)).toBe(Math.round((Date.parse(call.end_time) - Date.parse(call.start_time)) / 1000));
      expect(call.price).toMatch(/^-\d+\.\d{5}$/);
      expect(call.status).toBe('completed');
      expect(call.uri).toBe(`/2010-04-01/Accounts/${t.emulator.config.accountSid}/Calls/${call.sid}.json`);
      expect(Object.keys(call.subresource_uris).sort()).toEqual([...SUBRESOURCES].sort());
      expect(call.subresource_uris.recordings).toBe(call.uri.replace(/\.json$/, '/Recordings.json'));
      if (/^\+1\d{10}$/.test(call.from)) expect(call.from_formatted).toMatch(/^\(\d{3}\) \d{3}-\d{4}$/);
    }
  });

  it('answers the top-level paging envelope and pages across several pages with list() and each()', async () => {
    const seeded = await t.admin.seed({ agents: 2, callsPerAgent: 11, days: 10 });
    const all = await allCalls();
    expect(seeded.calls).toBeGreaterThan(20);

    const first = await raw(`${callsPath()}?PageSize=7`);
    expect(first.body).toMatchObject({ start: 0, end: 6, page: 0, page_size: 7, previous_page_uri: null });
    expect(first.body.meta).toBeUndefined();
    expect(first.body.uri).toBe(`${callsPath()}?PageSize=7&Page=0`);
    expect(first.body.first_page_uri).toBe(`${callsPath()}?PageSize=7&Page=0`);
    expect(first.body.next_page_uri).toBe(`${callsPath()}?PageSize=7&Page=1&PageToken=PT7`);
    const second = await raw(first.body.next_page_uri);
    expect(second.body).toMatchObject({ start: 7, end: 13, page: 1 });
    expect(second.body.previous_page_uri).not.toBeNull();

    expect(sids(await t.client.calls.list({ pageSize: 7 }))).toEqual(sids(all));
    const seen: string[] = [];
    await t.client.calls.each({ pageSize: 5 }, (c) => void seen.push(c.sid));
    expect(seen).toEqual(sids(all));
    // next_page_uri is a path: the SDK prefixes its own host, which the HTTP client routes to the emulator.
    const page = await t.client.calls.page({ pageSize: 7 });
    expect(page.nextPageUrl).toBe(`https://api.twilio.com${callsPath()}?PageSize=7&Page=1&PageToken=PT7`);
  });

  it('filters StartTime> / StartTime< with Date objects (the SDK sends date-times) and date-only strings', async () => {
    await t.admin.seed({ agents: 3, callsPerAgent: 12, days: 12 });
    const all = await allCalls();
    const after = new Date(Date.now() - 5 * DAY);
    const before = new Date(Date.now() - 2 * DAY);
    const startsIn = (c: CallInstance, from: number, to: number) =>
      c.startTime.getTime() >= from && c.startTime.getTime() <= to;
    const expected = all.filter((c) => startsIn(c, after.getTime(), before.getTime()));
    expect(expected.length).toBeGreaterThan(0);
    expect(sids(await allCalls({ startTimeAfter: after, startTimeBefore: before }))).toEqual(sids(expected));

    // Date-only: on or after midnight UTC of that day.
    const day = new Date(Date.now() - 6 * DAY).toISOString().slice(0, 10);
    const midnight = Date.parse(`${day}T00:00:00Z`);
    const fromDay = await allCalls({ startTimeAfter: day as unknown as Date });
    expect(sids(fromDay)).toEqual(sids(all.filter((c) => c.startTime.getTime() >= midnight)));

    // StartTime alone: during that UTC day.
    const onDay = await allCalls({ startTime: day as unknown as Date });
    expect(sids(onDay)).toEqual(sids(all.filter((c) => startsIn(c, midnight, midnight + DAY - 1))));

    const { body } = await raw(`${callsPath()}?${encodeURIComponent('StartTime>')}=${day}&PageSize=2`);
    expect(body.next_page_uri).toContain(`StartTime%3E=${day}`);
  });

  // twilio_api_v2010.json, ListCall: StartTime> / StartTime< are typed date-time but described as "a date as
  // YYYY-MM-DD"; whether the time of day is honoured is unconfirmed, so the emulator models both.
  it('with callsTimeFilter "day", honours only the dates of StartTime> / StartTime<: every call of those days', async () => {
    await t.admin.seed({ agents: 3, callsPerAgent: 12, days: 12 });
    const all = await allCalls();
    // One second after a call's start, on its day: the exact filter leaves that call out, the day filter keeps it
    // (so the test does not depend on the time of day it runs at).
    const anchor = all.find(
      (c) => c.startTime.getTime() % DAY < DAY - 60_000 && c.startTime.getTime() < Date.now() - 3 * DAY,
    )!;
    const after = new Date(anchor.startTime.getTime() + 1000);
    const before = new Date(after.getTime() + DAY);
    const exact = await allCalls({ startTimeAfter: after, startTimeBefore: before });
    await t.admin.setLimits({ callsTimeFilter: 'day' });
    try {
      const byDay = await allCalls({ startTimeAfter: after, startTimeBefore: before });
      const from = Math.floor(after.getTime() / DAY) * DAY;
      const to = Math.floor(before.getTime() / DAY) * DAY + DAY - 1;
      const expected = all.filter((c) => c.startTime.getTime() >= from && c.startTime.getTime() <= to);
      expect(sids(byDay)).toEqual(sids(expected));
      expect(byDay.length).toBeGreaterThan(exact.length);
      for (const sid of sids(exact)) expect(sids(byDay)).toContain(sid);
      expect(sids(exact)).not.toContain(anchor.sid);
      expect(sids(byDay)).toContain(anchor.sid);
    } finally {
      await t.admin.setLimits({ callsTimeFilter: 'exact' });
    }
  });

  it('filters EndTime, Status, To, From and ParentCallSid', async () => {
    await t.admin.seed({ agents: 2, callsPerAgent: 10, days: 5 });
    const all = await allCalls();
    const pivot = new Date(Date.now() - 2 * DAY);
    const endsAfter = all.filter((c) => c.endTime.getTime() >= pivot.getTime());
    const endsBefore = all.filter((c) => c.endTime.getTime() <= pivot.getTime());
    expect(endsAfter.length * endsBefore.length).toBeGreaterThan(0);
    expect(sids(await allCalls({ endTimeAfter: pivot }))).toEqual(sids(endsAfter));
    expect(sids(await allCalls({ endTimeBefore: pivot }))).toEqual(sids(endsBefore));

    const sample = all[3];
    expect(sids(await allCalls({ to: sample.to }))).toEqual(sids(all.filter((c) => c.to === sample.to)));
    expect(sids(await allCalls({ from: sample.from }))).toEqual(sids(all.filter((c) => c.from === sample.from)));
    expect(sids(await allCalls({ status: 'completed' }))).toEqual(sids(all));
    expect(await allCalls({ status: 'busy' })).toEqual([]);
    expect(await allCalls({ parentCallSid: sample.sid })).toEqual([]);
  });

  it('refuses an invalid date', async () => {
    const { status, body } = await raw(`${callsPath()}?${encodeURIComponent('StartTime>')}=not-a-date`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ status: 400, code: 20001 });
  });
});

describe('call fetch and accounts', () => {
  it('fetches a call; unknown calls and other accounts answer 404 / 20404', async () => {
    await t.admin.seed({ agents: 1, callsPerAgent: 3, days: 2 });
    const [first] = await allCalls();
    const fetched = await t.client.calls(first.sid).fetch();
    expect(fetched.toJSON()).toEqual(first.toJSON());
    expect(fetched.duration).toMatch(/^\d+$/);

    expect(await rejection(t.client.calls('CA' + '0'.repeat(32)).fetch())).toMatchObject({ status: 404, code: 20404 });
    const other = t.client.api.v2010.accounts('AC' + 'f'.repeat(32));
    expect(await rejection(other.calls.list())).toMatchObject({ status: 404, code: 20404 });
    expect(await rejection(other.calls(first.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
  });

  it('authenticates with an API key as with the auth token', async () => {
    await t.admin.seed({ agents: 1, callsPerAgent: 2, days: 1 });
    const keyed = emulatorClient(t.emulator, {
      username: t.emulator.config.apiKey,
      password: t.emulator.config.apiSecret,
    });
    expect(await keyed.calls.list()).toHaveLength(2);
    const wrong = emulatorClient(t.emulator, { username: t.emulator.config.accountSid, password: 'f'.repeat(32) });
    expect(await rejection(wrong.calls.list())).toMatchObject({ status: 401, code: 20003 });
  });
});
