/**
 * /taskrouter-events end to end: the built function under twilio-run, the emulator pushing live calls to it as the
 * workspace's EventCallbackUrl and as an Event Streams webhook sink, the real SDK reading back what landed in Sync.
 */
import { signedRequest } from '../../../emulator/events/deliver';
import { recentCallsMapName } from '../../../src/recent-calls/map-name';
import { waitFor } from '../../helpers/receiver';
import { startSystem, syncRecentCalls, type System } from '../../helpers/system';

const SECRET = 'test-secret-0123456789abcdef';
const USER = 'taskrouter';
let system: System;

beforeAll(async () => {
  system = await startSystem({ env: { TASKROUTER_EVENTS_SECRET: SECRET, RECENT_CALLS_EVENT_LAG_SECONDS: '0' } });
});
afterAll(() => system?.stop());
beforeEach(async () => {
  await system.admin.reset();
  await system.admin.setLimits({ writeRatePerSecond: 0 });
});

/** The function's URL as its callers sign it under twilio-run (it rebuilds `localhost`, not 127.0.0.1). */
const fnUrl = () => `http://localhost:${system.functions.port}/taskrouter-events`;
const withCredentials = (user = USER, secret = SECRET) => fnUrl().replace('http://', `http://${user}:${secret}@`);
const service = () => system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
const workspace = () => system.twilio.taskrouter.v1.workspaces(system.emulator.config.workspaceSid);
const quiet = () => waitFor(async () => (await system.admin.deliveries()).backlog === 0, 'pushes to finish', 60_000);

async function items(workerSid: string) {
  try {
    return await service().syncMaps(recentCallsMapName(workerSid)).syncMapItems.list({ pageSize: 100 });
  } catch (error) {
    if ((error as { status?: number }).status === 404) return [];
    throw error;
  }
}

async function seedAgents(agents = 1): Promise<string[]> {
  const seeded = await system.admin.seed({ agents, callsPerAgent: 0, days: 1 });
  return seeded.agents.map((a) => a.workerSid);
}

async function subscribeSink(destination = withCredentials()) {
  const sink = await system.twilio.events.v1.sinks.create({
    description: 'recent calls',
    sinkConfiguration: { destination, method: 'POST' },
    sinkType: 'webhook',
  });
  await system.twilio.events.v1.subscriptions.create({
    description: 'TaskRouter',
    sinkSid: sink.sid,
    types: ['reservation.completed', 'task.created', 'reservation.accepted'].map((t) => ({
      type: `com.twilio.taskrouter.${t}`,
      schema_version: 1,
    })),
  });
  return sink;
}

/** Posts to the function as a sender would (signed by the emulator's own signing code), optionally tampered. */
async function post(init: {
  json?: unknown;
  form?: Record<string, string>;
  url?: string;
  token?: string;
  headers?: Record<string, string | undefined>;
}) {
  const signed = signedRequest({
    url: init.url ?? fnUrl(),
    authToken: init.token ?? system.emulator.config.authToken,
    json: init.json,
    form: init.form,
  });
  const headers: Record<string, string> = { ...signed.headers };
  for (const [name, value] of Object.entries(init.headers ?? {})) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  const response = await fetch(signed.url, { method: 'POST', headers, body: signed.body });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

function completedPayload(workerSid: string, n: number) {
  const hex = n.toString(16).padStart(32, '0');
  return {
    sid: `EV${hex}`,
    eventtype: 'reservation.completed',
    timestamp: new Date().toISOString(),
    task_sid: `WT${hex}`,
    task_attributes: JSON.stringify({
      direction: 'inbound',
      call_sid: `CA${hex}`,
      from: '+12065550100',
      to: '+14155550100',
    }),
    task_age: 120,
    task_date_created: new Date(Date.now() - 120_000).toISOString(),
    task_channel_unique_name: 'voice',
    task_queue_name: 'Support',
    worker_sid: workerSid,
    worker_attributes: JSON.stringify({ contact_uri: 'client:alice' }),
    reservation_sid: `WR${hex}`,
  };
}

const cloudEvent = (payload: Record<string, unknown>) => ({
  specversion: '1.0',
  type: `com.twilio.taskrouter.${String(payload.eventtype)}`,
  source: '/v1/Workspaces',
  id: `NO${String(payload.sid).slice(2)}`,
  datacontenttype: 'application/json',
  time: payload.timestamp,
  data: { payload },
});

describe('pushed through the workspace EventCallbackUrl', () => {
  it('writes a completed call to the agent map with no scheduled run, then the job finds it already there', async () => {
    const [workerSid] = await seedAgents();
    await workspace().update({ eventCallbackUrl: fnUrl() });
    const { calls } = await system.admin.liveCalls({ workerSid, direction: 'inbound', talkSeconds: 0 });
    await quiet();
    const written = await items(workerSid);
    expect(written).toHaveLength(1);
    expect(written[0].data).toMatchObject({
      callSid: calls[0].callSid,
      taskSid: calls[0].taskSid,
      direction: 'inbound',
    });
    // Every event was acknowledged: the completion written, the others ignored.
    const { callbacks } = await system.admin.deliveries();
    expect(callbacks.length).toBeGreaterThan(3);
    expect(callbacks.every((c) => c.status === 200)).toBe(true);
    // The job writes nothing new and leaves the pushed item as it is.
    const before = written[0].revision;
    const result = await syncAfterCompletions();
    expect(result.done).toBe(true);
    expect(result.totals.written).toBe(0);
    expect(result.totals.skipped).toBeGreaterThanOrEqual(1);
    const after = await items(workerSid);
    expect(after.map((i) => [i.key, i.revision])).toEqual([[written[0].key, before]]);
  });

  it('refuses an unsigned or badly signed callback with 401 and writes nothing', async () => {
    const [workerSid] = await seedAgents();
    const form = {
      EventType: 'reservation.completed',
      Timestamp: String(Math.floor(Date.now() / 1000)),
      WorkerSid: workerSid,
    };
    const unsigned = await post({ form, headers: { 'X-Twilio-Signature': undefined } });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.code).toBe('SIGNATURE_MISSING');
    const wrongToken = await post({ form, token: 'f'.repeat(32) });
    expect(wrongToken.status).toBe(401);
    expect(wrongToken.body.code).toBe('SIGNATURE_INVALID');
    expect(await items(workerSid)).toHaveLength(0);
  });
});

/** The job's summary lines printed since `from` (an index into the functions' output). */
function jobSummaries(from: number) {
  return system.functions.output
    .slice(from)
    .filter((line) => line.includes('sync run summary'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, number>);
}
/**
 * Runs the scheduled job once the calls' completions are in the past. With no settling lag the job reads up to the
 * current second and leaves that second to its next run, so completions from the same second would not be counted yet.
 */
async function syncAfterCompletions() {
  await system.admin.advanceClock(2);
  return syncRecentCalls(system);
}
const total = (lines: Array<Record<string, number>>, field: string) => lines.reduce((n, l) => n + (l[field] ?? 0), 0);

describe('the scheduled job after pushes', () => {
  it("writes nothing and reads each active agent's items about once per window", async () => {
    const workers = await seedAgents(3);
    await subscribeSink();
    const { calls } = await system.admin.liveCalls({ count: 6, talkSeconds: 0 });
    await quiet();
    expect((await Promise.all(workers.map(items))).flat()).toHaveLength(calls.length);
    const from = system.functions.output.length;
    const result = await syncAfterCompletions();
    expect(result.done).toBe(true);
    expect(result.totals.written).toBe(0);
    const lines = jobSummaries(from);
    expect(total(lines, 'itemCreates')).toBe(0);
    expect(total(lines, 'alreadyThere')).toBe(calls.length);
    const agents = new Set(calls.map((c) => c.workerSid)).size;
    expect(total(lines, 'rangeReads')).toBeLessThanOrEqual(agents * total(lines, 'windows'));
    expect(total(lines, 'rangeReads')).toBeGreaterThanOrEqual(agents);
  });

  it('writes the call whose push was lost (a callback answered 503 is not retried)', async () => {
    const [workerSid] = await seedAgents();
    await workspace().update({ eventCallbackUrl: fnUrl(), eventsFilter: 'reservation.completed' });
    await system.admin.faults({ errorRate: 1, families: ['sync'] });
    const { calls } = await system.admin.liveCalls({ workerSid, count: 2, talkSeconds: 0 });
    await quiet();
    const { callbacks } = await system.admin.deliveries();
    expect(callbacks.map((c) => c.status)).toEqual([503, 503]);
    await system.admin.faults({});
    expect(await items(workerSid)).toHaveLength(0);
    const from = system.functions.output.length;
    const result = await syncAfterCompletions();
    expect(result.totals.written).toBe(2);
    expect((await items(workerSid)).map((i) => (i.data as { taskSid: string }).taskSid).sort()).toEqual(
      calls.map((c) => c.taskSid).sort(),
    );
    expect(total(jobSummaries(from), 'alreadyThere')).toBe(0);
  });
});

describe('pushed through an Event Streams sink', () => {
  it('writes one item per call through duplicates and reordered batches', async () => {
    const workers = await seedAgents(2);
    await system.admin.eventStreams({ duplicateRate: 1, reorderRate: 1, batchWindowMs: 200 });
    await subscribeSink();
    const { calls } = await system.admin.liveCalls({ count: 4, talkSeconds: 0 });
    await quiet();
    const { streams } = await system.admin.deliveries();
    expect(streams.length).toBeGreaterThan(0);
    expect(streams.every((d) => d.status === 200)).toBe(true);
    const all = (await Promise.all(workers.map(items))).flat();
    expect(all.map((i) => (i.data as { taskSid: string }).taskSid).sort()).toEqual(calls.map((c) => c.taskSid).sort());
    // One summary line per delivery, with what the checks found; the secret never printed.
    const summaries = system.functions.output
      .filter((line) => line.includes('taskrouter events summary'))
      .map((line) => JSON.parse(line.slice(line.indexOf('{'))));
    const streamsLines = summaries.filter((s) => s.shape === 'streams');
    expect(streamsLines.length).toBeGreaterThanOrEqual(streams.length);
    expect(streamsLines.at(-1)).toMatchObject({ basic: 'valid', signed: 'valid', status: 200 });
    expect(system.functions.output.join('\n')).not.toContain(SECRET);
  });

  it('answers 401 with WWW-Authenticate to missing or wrong credentials and writes nothing', async () => {
    const [workerSid] = await seedAgents();
    const json = [cloudEvent(completedPayload(workerSid, 1))];
    const missing = await post({ json });
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('CREDENTIALS_MISSING');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const wrong = await post({ json, url: withCredentials(USER, `${SECRET}x`) });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('CREDENTIALS_INVALID');
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    const wrongUser = await post({ json, url: withCredentials('someone', SECRET) });
    expect(wrongUser.status).toBe(401);
    const badSignature = await post({ json, url: withCredentials(), token: 'f'.repeat(32) });
    expect(badSignature.status).toBe(401);
    expect(badSignature.body.code).toBe('SIGNATURE_INVALID');
    expect(await items(workerSid)).toHaveLength(0);
    // The same delivery with the right credentials is written.
    const ok = await post({ json, url: withCredentials() });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ received: 1, written: 1, retry: false });
    expect(await items(workerSid)).toHaveLength(1);
  });

  it('writes the completions of a batch that mixes event types and malformed entries, and ignores the rest', async () => {
    const [workerSid] = await seedAgents();
    const chat = { ...completedPayload(workerSid, 3), task_channel_unique_name: 'chat' };
    const json = [
      cloudEvent({ ...completedPayload(workerSid, 2), eventtype: 'task.created' }),
      cloudEvent(completedPayload(workerSid, 2)),
      'not an event',
      { type: 'com.twilio.voice.status-callback.call.completed', data: {} },
      cloudEvent(chat),
      cloudEvent({ ...completedPayload(workerSid, 4), timestamp: 'yesterday' }),
      cloudEvent(completedPayload(workerSid, 5)),
      cloudEvent(completedPayload(workerSid, 2)),
      // No SID anywhere and an id that is no text (String() of it threw): its SID is its position; not a completion.
      { type: 'com.twilio.taskrouter.task.created', data: { payload: { timestamp: 1700000000 } }, id: { toString: 1 } },
    ];
    const answer = await post({ json, url: withCredentials() });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ received: 9, written: 2, duplicate: 1, ignored: 6, failed: 0, retry: false });
    expect((await items(workerSid)).map((i) => (i.data as { taskSid: string }).taskSid).sort()).toEqual([
      `WT${'2'.padStart(32, '0')}`,
      `WT${'5'.padStart(32, '0')}`,
    ]);
  });

  it('asks for a retry while Sync answers 429 / 5xx, and the retried delivery writes the call', async () => {
    const [workerSid] = await seedAgents();
    await system.admin.eventStreams({ retryBaseMs: 300, retryMaxMs: 1000 });
    await subscribeSink();
    await system.admin.faults({ errorRate: 0.5, throttleRate: 1, families: ['sync'] });
    const { calls } = await system.admin.liveCalls({ workerSid, talkSeconds: 0 });
    await waitFor(
      async () => (await system.admin.deliveries()).streams.some((d) => d.status === 503),
      'a delivery answered 503',
      60_000,
    );
    expect(await system.admin.faults({})).toMatchObject({ errorRate: 0, throttleRate: 0 });
    await quiet();
    const { streams } = await system.admin.deliveries();
    expect(streams.at(-1)).toMatchObject({ status: 200 });
    expect(streams.filter((d) => d.status === 503).length).toBeGreaterThan(0);
    expect((await items(workerSid)).map((i) => (i.data as { taskSid: string }).taskSid)).toEqual([calls[0].taskSid]);
  });
});
