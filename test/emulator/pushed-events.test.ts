/**
 * Pushed events as the emulator sends them: the workspace's EventCallbackUrl (one signed form POST per event, through
 * the TaskRouter REST API), Event Streams sinks and subscriptions (Events v1 REST API) with signed JSON batches, Basic
 * credentials from the URL's user info, duplicates, reordering and retries, and POST /__admin/live-calls.
 * A loopback receiver stands in for the functions and checks what arrives with the twilio SDK's own validators.
 */
import twilio from 'twilio';
import { rejection, useEmulator } from '../helpers/emulator';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver';

const t = useEmulator();
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());
beforeEach(() => {
  receiver.received.length = 0;
  receiver.answer = () => 204;
});

const workspace = () => t.client.taskrouter.v1.workspaces(t.emulator.config.workspaceSid);
const quiet = () => waitFor(async () => (await t.admin.deliveries()).backlog === 0, 'pushes to finish');
const form = (body: string) => Object.fromEntries(new URLSearchParams(body));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function seedOneAgent(): Promise<string> {
  const seeded = await t.admin.seed({ agents: 1, callsPerAgent: 0, days: 1 });
  return seeded.agents[0].workerSid;
}

async function webhookSink(destination: string, extra: Record<string, unknown> = {}) {
  const sink = await t.client.events.v1.sinks.create({
    description: 'recent calls',
    sinkConfiguration: { destination, method: 'POST', ...extra },
    sinkType: 'webhook',
  });
  await t.client.events.v1.subscriptions.create({
    description: 'completed reservations',
    sinkSid: sink.sid,
    types: [{ type: 'com.twilio.taskrouter.reservation.completed', schema_version: 1 }],
  });
  return sink;
}

describe('workspace EventCallbackUrl', () => {
  it('is set and cleared through the REST API, and a bad URL is refused', async () => {
    const updated = await workspace().update({
      eventCallbackUrl: `${receiver.url}/cb`,
      eventsFilter: 'reservation.completed',
    });
    expect(updated.eventCallbackUrl).toBe(`${receiver.url}/cb`);
    expect(updated.eventsFilter).toBe('reservation.completed');
    expect((await workspace().fetch()).eventCallbackUrl).toBe(`${receiver.url}/cb`);
    expect((await rejection(workspace().update({ eventCallbackUrl: 'not a url' }))).status).toBe(400);
    const cleared = await workspace().update({ eventCallbackUrl: '', eventsFilter: '' });
    expect(cleared.eventCallbackUrl).toBe('');
    expect(cleared.eventsFilter).toBeNull();
  });

  it('receives one signed form POST per live event, only the filtered types, with Basic credentials from the URL', async () => {
    const workerSid = await seedOneAgent();
    await workspace().update({
      eventCallbackUrl: `http://hook:s3cret@127.0.0.1:${receiver.port}/cb`,
      eventsFilter: 'task.created,reservation.completed',
    });
    const { calls } = await t.admin.liveCalls({ workerSid, direction: 'inbound', talkSeconds: 0 });
    await quiet();
    expect(receiver.received.map((r) => form(r.body).EventType)).toEqual(['task.created', 'reservation.completed']);
    for (const request of receiver.received) {
      expect(request.path).toBe('/cb');
      expect(request.headers.authorization).toBe(basic('hook', 's3cret'));
      const signature = String(request.headers['x-twilio-signature']);
      const url = `http://127.0.0.1:${receiver.port}/cb`;
      expect(twilio.validateRequest(t.emulator.config.authToken, signature, url, form(request.body))).toBe(true);
      expect(twilio.validateRequest('f'.repeat(32), signature, url, form(request.body))).toBe(false);
    }
    const completed = form(receiver.received[1].body);
    expect(completed).toMatchObject({
      AccountSid: t.emulator.config.accountSid,
      WorkspaceSid: t.emulator.config.workspaceSid,
      ResourceType: 'reservation',
      TaskSid: calls[0].taskSid,
      WorkerSid: workerSid,
      TaskChannelUniqueName: 'voice',
      Timestamp: expect.stringMatching(/^\d{10}$/),
      TaskAge: expect.stringMatching(/^\d+$/),
    });
    expect(JSON.parse(completed.TaskAttributes).call_sid).toBe(calls[0].callSid);
    // The same event is in the Events log.
    const logged = await workspace().events.list({ eventType: 'reservation.completed', taskSid: calls[0].taskSid });
    expect(logged.map((e) => e.resourceSid)).toEqual([completed.ResourceSid]);
  });

  it('records a failed callback without retrying it', async () => {
    const workerSid = await seedOneAgent();
    receiver.answer = () => 500;
    await workspace().update({ eventCallbackUrl: `${receiver.url}/cb`, eventsFilter: 'reservation.completed' });
    await t.admin.liveCalls({ workerSid, talkSeconds: 0 });
    await quiet();
    expect(receiver.received).toHaveLength(1);
    expect((await t.admin.deliveries()).callbacks).toEqual([
      expect.objectContaining({ eventType: 'reservation.completed', status: 500, ok: false }),
    ]);
  });
});

describe('Event Streams', () => {
  it('creates, lists, updates and deletes sinks, subscriptions and subscribed events through the REST API', async () => {
    const events = t.client.events.v1;
    const sink = await webhookSink(`${receiver.url}/es`);
    expect(sink.status).toBe('active');
    expect(sink.sinkType).toBe('webhook');
    expect(sink.sid).toMatch(/^DG[0-9a-f]{32}$/);
    expect((await events.sinks.list()).map((s) => s.sid)).toEqual([sink.sid]);
    expect((await events.sinks(sink.sid).update({ description: 'renamed' })).description).toBe('renamed');
    const [subscription] = await events.subscriptions.list({ sinkSid: sink.sid });
    expect(subscription.sid).toMatch(/^DF[0-9a-f]{32}$/);
    const subscribed = events.subscriptions(subscription.sid).subscribedEvents;
    expect((await subscribed.list()).map((e) => [e.type, e.schemaVersion])).toEqual([
      ['com.twilio.taskrouter.reservation.completed', 1],
    ]);
    await subscribed.create({ type: 'com.twilio.taskrouter.task.created', schemaVersion: 2 });
    expect((await subscribed('com.twilio.taskrouter.task.created').fetch()).schemaVersion).toBe(2);
    await subscribed('com.twilio.taskrouter.task.created').remove();
    expect(await subscribed.list()).toHaveLength(1);
    expect(
      (
        await rejection(
          events.subscriptions.create({ description: 'x', sinkSid: 'DG' + '0'.repeat(32), types: [{ type: 'a' }] }),
        )
      ).status,
    ).toBe(400);
    await events.sinks(sink.sid).remove();
    expect(await events.subscriptions.list()).toHaveLength(0);
  });

  it('delivers a signed JSON array of CloudEvents with Basic credentials from the destination', async () => {
    const workerSid = await seedOneAgent();
    await webhookSink(`http://es:pa55@127.0.0.1:${receiver.port}/es`);
    const { calls } = await t.admin.liveCalls({ workerSid, direction: 'outbound', talkSeconds: 0 });
    await quiet();
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request.headers.authorization).toBe(basic('es', 'pa55'));
    expect(request.headers['content-type']).toBe('application/json');
    const url = `http://127.0.0.1:${receiver.port}${request.path}`;
    expect(request.path).toMatch(/^\/es\?bodySHA256=[0-9a-f]{64}$/);
    expect(
      twilio.validateRequestWithBody(
        t.emulator.config.authToken,
        String(request.headers['x-twilio-signature']),
        url,
        request.body,
      ),
    ).toBe(true);
    expect(
      twilio.validateRequestWithBody(
        t.emulator.config.authToken,
        String(request.headers['x-twilio-signature']),
        url,
        `${request.body} `,
      ),
    ).toBe(false);
    const batch = JSON.parse(request.body);
    expect(batch).toEqual([
      expect.objectContaining({
        specversion: '1.0',
        type: 'com.twilio.taskrouter.reservation.completed',
        dataschema: 'https://events-schemas.twilio.com/TaskRouter.WDSEvent/1',
      }),
    ]);
    const payload = batch[0].data.payload;
    expect(payload).toMatchObject({
      eventtype: 'reservation.completed',
      task_sid: calls[0].taskSid,
      worker_sid: workerSid,
    });
    expect(typeof payload.task_age).toBe('number');
    expect(payload.task_date_created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
    expect(payload.timestamp).toMatch(/\.\d{3}Z$/);
    expect(calls[0].callSid).toBeNull();
    expect(JSON.parse(payload.task_attributes).call_sid).toBeUndefined();
  });

  it('batches events, and with the rates turned on delivers duplicates and reversed batches', async () => {
    const workerSid = await seedOneAgent();
    await t.admin.eventStreams({ batchWindowMs: 200, duplicateRate: 1, reorderRate: 1 });
    await webhookSink(`${receiver.url}/es`);
    const { calls } = await t.admin.liveCalls({ workerSid, count: 3, talkSeconds: 0 });
    await quiet();
    const batches = receiver.received.map((r) => JSON.parse(r.body).map((e: any) => e.data.payload.task_sid as string));
    const delivered = batches.flat();
    const tasks = calls.map((c) => c.taskSid);
    // Each completion twice (original and duplicate), never more.
    expect([...delivered].sort()).toEqual([...tasks, ...tasks].sort());
    // At least one batch held several events, in the reverse of the order they happened (the log's, oldest first).
    const logged = await workspace().events.list({ eventType: 'reservation.completed', minutes: 5 });
    const happened = logged.map((e) => e.eventData.task_sid as string).reverse();
    const multi = batches.find((b) => b.length > 1);
    expect(multi).toBeDefined();
    expect(happened.filter((s) => multi!.includes(s))).toEqual([...multi!].reverse());
  });

  it('retries a failed batch with backoff until it is accepted', async () => {
    const workerSid = await seedOneAgent();
    await t.admin.eventStreams({ retryBaseMs: 20, retryMaxMs: 100 });
    receiver.answer = (_request, index) => (index < 3 ? (index === 0 ? 500 : 429) : 200);
    await webhookSink(`${receiver.url}/es`);
    await t.admin.liveCalls({ workerSid, talkSeconds: 0 });
    await quiet();
    const { streams } = await t.admin.deliveries();
    expect(streams.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 429],
      [3, 429],
      [4, 200],
    ]);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    for (let i = 1; i < streams.length; i++) expect(streams[i].at - streams[i - 1].at).toBeGreaterThanOrEqual(10);
  });
});

describe('POST /__admin/live-calls', () => {
  it('simulates calls now: events in the log as they happen, the Call record once the call ended', async () => {
    const workerSid = await seedOneAgent();
    const { calls } = await t.admin.liveCalls({ workerSid, count: 2, direction: 'inbound', talkSeconds: 0 });
    expect(calls).toEqual([
      { taskSid: expect.stringMatching(/^WT/), workerSid, callSid: expect.stringMatching(/^CA/), direction: 'inbound' },
      { taskSid: expect.stringMatching(/^WT/), workerSid, callSid: expect.stringMatching(/^CA/), direction: 'inbound' },
    ]);
    await quiet();
    for (const call of calls) {
      const events = await workspace().events.list({ taskSid: call.taskSid, minutes: 5 });
      expect(events.map((e) => e.eventType)).toEqual(
        expect.arrayContaining(['task.created', 'reservation.accepted', 'reservation.completed']),
      );
      expect((await t.client.calls(call.callSid!).fetch()).status).toBe('completed');
    }
  });

  it('refuses bad input with a clear 400', async () => {
    await expect(t.admin.liveCalls({ count: 1 })).rejects.toThrow(/seed agents first/);
    await seedOneAgent();
    await expect(t.admin.liveCalls({ direction: 'sideways' as 'inbound' })).rejects.toThrow(/direction/);
    await expect(t.admin.liveCalls({ count: 0 })).rejects.toThrow(/count/);
  });
});
