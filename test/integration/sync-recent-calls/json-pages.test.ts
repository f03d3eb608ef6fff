/**
 * The job reads its Events and Calls pages as JSON (src/twilio/json-pages.ts) instead of the SDK's resource
 * instances. Against the emulator over HTTP, page for page, it must read what the SDK's own `page()` reads: the same
 * completions and call timings, the same pages, the same requests, the same errors.
 */
import twilio, { type Twilio } from 'twilio';
import type { CallInstance } from 'twilio/lib/rest/api/v2010/account/call';
import type { EventInstance } from 'twilio/lib/rest/taskrouter/v1/workspace/event';
import { callSummary, rawCallOf } from '../../../src/recent-calls/calls-source';
import {
  COMPLETED_EVENT_TYPE,
  parseCompletion,
  rawEventOf,
  VOICE_CHANNEL,
} from '../../../src/recent-calls/events-source';
import { API_2010_URL, isoSeconds, jsonPage, TASKROUTER_V1_URL } from '../../../src/twilio/json-pages';
import type { PageLike } from '../../../src/recent-calls/paging';
import { rejection, useEmulator } from '../../helpers/emulator';

type RequestOptions<T> = import('twilio/lib/base/RequestClient').RequestOptions<T>;

const DAY_MS = 86_400_000;
const t = useEmulator();

/** Every page of a list: the SDK's pages or JSON pages alike. */
async function allPages<T>(first: PageLike<T>): Promise<PageLike<T>[]> {
  const pages = [first];
  for (let next = first.nextPage(); next; next = pages[pages.length - 1].nextPage()) pages.push(await next);
  return pages;
}

async function seeded() {
  // About 1,300 completed reservations in 2 days: two pages of events and of calls at 1,000 a page.
  await t.admin.seed({ agents: 30, callsPerAgent: 40, days: 2 });
  await t.admin.advanceClock(120);
  const nowMs = Date.parse((await t.admin.config()).now);
  return { fromMs: nowMs - 3 * DAY_MS, toMs: nowMs };
}

function eventsJsonPage(client: Twilio, workspaceSid: string, fromMs: number, toMs: number) {
  return jsonPage(
    client,
    `${TASKROUTER_V1_URL}/Workspaces/${workspaceSid}/Events`,
    {
      EventType: COMPLETED_EVENT_TYPE,
      TaskChannel: VOICE_CHANNEL,
      StartDate: isoSeconds(fromMs),
      EndDate: isoSeconds(toMs),
      PageSize: 1000,
    },
    'events',
    rawEventOf,
  );
}

function eventsSdkPage(client: Twilio, workspaceSid: string, fromMs: number, toMs: number) {
  return client.taskrouter.v1.workspaces(workspaceSid).events.page({
    eventType: COMPLETED_EVENT_TYPE,
    taskChannel: VOICE_CHANNEL,
    startDate: new Date(fromMs),
    endDate: new Date(toMs),
    pageSize: 1000,
  });
}

function callsJsonPage(client: Twilio, fromMs: number, toMs: number) {
  return jsonPage(
    client,
    `${API_2010_URL}/Accounts/${client.accountSid}/Calls.json`,
    { 'StartTime>': isoSeconds(fromMs), 'StartTime<': isoSeconds(toMs), PageSize: 1000 },
    'calls',
    rawCallOf,
  );
}

function callsSdkPage(client: Twilio, fromMs: number, toMs: number) {
  return client.api.v2010.accounts(client.accountSid).calls.page({
    startTimeAfter: new Date(fromMs),
    startTimeBefore: new Date(toMs),
    pageSize: 1000,
  });
}

it('Events: the same completions, page for page, as the SDK’s EventInstances', async () => {
  const { fromMs, toMs } = await seeded();
  const workspaceSid = t.emulator.config.workspaceSid;
  const json = await allPages(await eventsJsonPage(t.client, workspaceSid, fromMs, toMs));
  const sdk = await allPages<EventInstance>(await eventsSdkPage(t.client, workspaceSid, fromMs, toMs));
  expect(json.length).toBeGreaterThan(1);
  expect(json.map((p) => p.nextPageUrl)).toEqual(sdk.map((p) => p.nextPageUrl));
  const fromSdk = (e: EventInstance) =>
    parseCompletion({
      sid: e.sid,
      eventType: e.eventType,
      eventDateMs: e.eventDateMs,
      eventDate: e.eventDate,
      eventData: e.eventData,
    });
  const completions = json.flatMap((p) => p.instances.map(parseCompletion));
  expect(completions.filter((c) => c.ok).length).toBeGreaterThan(1000);
  expect(completions).toEqual(sdk.flatMap((p) => p.instances.map(fromSdk)));
});

it('Calls: the same call timings, page for page, as the SDK’s CallInstances (RFC 2822 times read alike)', async () => {
  const { fromMs, toMs } = await seeded();
  const json = await allPages(await callsJsonPage(t.client, fromMs, toMs));
  const sdk = await allPages<CallInstance>(await callsSdkPage(t.client, fromMs, toMs));
  expect(json.length).toBeGreaterThan(1);
  expect(json.map((p) => p.nextPageUrl)).toEqual(sdk.map((p) => p.nextPageUrl));
  const summaries = json.flatMap((p) => p.instances.map(callSummary));
  expect(summaries.filter((s) => s?.endMs !== undefined).length).toBeGreaterThan(1000);
  expect(summaries).toEqual(sdk.flatMap((p) => p.instances.map((c) => callSummary(c))));
});

/** A Twilio client (configured with `options`) whose HTTP client records each request and answers an empty page. */
function recordingClient(options: { edge?: string; region?: string } = {}) {
  const sent: Array<Pick<RequestOptions<unknown>, 'method' | 'uri' | 'params'>> = [];
  const httpClient = {
    request: async (opts: RequestOptions<unknown>) => {
      sent.push({ method: opts.method, uri: opts.uri, params: opts.params });
      const first = !opts.uri.includes('PageToken');
      // Events name their next page absolutely (meta.next_page_url), API 2010 relatively to the host (next_page_uri).
      const body = opts.uri.includes('/Events')
        ? {
            events: [],
            meta: {
              key: 'events',
              next_page_url: first ? `https://taskrouter.twilio.com/v1/Workspaces/WS1/Events?PageToken=PT1` : null,
            },
          }
        : { calls: [], next_page_uri: first ? `/2010-04-01/Accounts/AC1/Calls.json?PageToken=PT1` : null };
      return { statusCode: 200, body, headers: {} };
    },
  };
  const client = twilio(t.emulator.config.accountSid, t.emulator.config.authToken, {
    httpClient: httpClient as never,
    ...options,
  });
  return { client, sent };
}

it.each([{}, { edge: 'sydney', region: 'au1' }])(
  'sends the requests the SDK sends, first and next pages (client options %j)',
  async (options) => {
    const fromMs = Date.parse('2026-03-01T10:00:00.250Z');
    const toMs = Date.parse('2026-03-02T10:00:00.999Z');
    const workspaceSid = t.emulator.config.workspaceSid;
    const sentBy = async (read: (client: Twilio) => Promise<PageLike<unknown>>) => {
      const { client, sent } = recordingClient(options);
      await allPages(await read(client));
      return sent;
    };
    const events = await sentBy((c) => eventsJsonPage(c, workspaceSid, fromMs, toMs));
    expect(events).toEqual(await sentBy((c) => eventsSdkPage(c, workspaceSid, fromMs, toMs)));
    const calls = await sentBy((c) => callsJsonPage(c, fromMs, toMs));
    expect(calls).toEqual(await sentBy((c) => callsSdkPage(c, fromMs, toMs)));
    expect(events).toHaveLength(2);
    expect(calls).toHaveLength(2);
    expect(events[0].params).toMatchObject({ StartDate: '2026-03-01T10:00:00Z', EndDate: '2026-03-02T10:00:00Z' });
    const host = options.edge ? 'api.sydney.au1.twilio.com' : 'api.twilio.com';
    expect(calls[1].uri).toBe(`https://${host}/2010-04-01/Accounts/AC1/Calls.json?PageToken=PT1`);
  },
);

it('fails as the SDK fails: a Twilio error answer is its RestException, with status, code and message', async () => {
  const missing = 'WS' + 'f'.repeat(32);
  const fromJson = await rejection(eventsJsonPage(t.client, missing, 0, DAY_MS));
  const fromSdk = await rejection(eventsSdkPage(t.client, missing, 0, DAY_MS));
  expect(fromJson).toBeInstanceOf(twilio.RestException);
  expect({ status: fromJson.status, code: fromJson.code, message: fromJson.message }).toEqual({
    status: fromSdk.status,
    code: fromSdk.code,
    message: fromSdk.message,
  });
  expect(fromJson.status).toBe(404);
});

it('says so when a page has no list of the items it reads', async () => {
  const client = { request: async () => ({ statusCode: 200, body: { meta: {} }, headers: {} }) } as unknown as Twilio;
  await expect(
    jsonPage(client, `${TASKROUTER_V1_URL}/Workspaces/WS1/Events`, {}, 'events', rawEventOf),
  ).rejects.toThrow(/without its "events" array/);
});
